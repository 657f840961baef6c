// The Electron side's security, checked without the Electron binary (issue "Reliability"): the window's
// options, blocked navigation and new windows, the strict CSP, the artifact protocol confined to run and
// dataset artifacts, and IPC refused to senders the app did not create. `electron` is replaced by a
// recorder of what main/electron asks of it.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { tempHome } from './helpers';

const rec = vi.hoisted(() => ({
  windowOptions: null as Record<string, unknown> | null,
  openHandler: null as ((d: { url: string }) => { action: string }) | null,
  navigate: null as ((e: { preventDefault(): void }) => void) | null,
  artifactHandler: null as ((req: { url: string }) => Response | Promise<Response>) | null,
  fetched: [] as string[],
  opened: [] as string[],
  ipc: new Map<string, (e: { sender: { id: number } }, ...args: unknown[]) => unknown>(),
}));

vi.mock('electron', () => ({
  BrowserWindow: class {
    webContents = {
      id: 7,
      setWindowOpenHandler: (h: (d: { url: string }) => { action: string }) => (rec.openHandler = h),
      on: (ev: string, h: (e: { preventDefault(): void }) => void) => {
        if (ev === 'will-navigate') rec.navigate = h;
      },
      send: () => {},
    };
    constructor(o: Record<string, unknown>) {
      rec.windowOptions = o;
    }
    loadFile(): Promise<void> {
      return Promise.resolve();
    }
    loadURL(): Promise<void> {
      return Promise.resolve();
    }
    isDestroyed(): boolean {
      return false;
    }
  },
  net: { fetch: async (u: string) => (rec.fetched.push(u), new Response('file')) },
  protocol: { handle: (_s: string, h: (req: { url: string }) => Response) => (rec.artifactHandler = h), registerSchemesAsPrivileged: () => {} },
  shell: { openExternal: async (u: string) => void rec.opened.push(u) },
  ipcMain: { handle: (ch: string, fn: (e: { sender: { id: number } }, ...args: unknown[]) => unknown) => rec.ipc.set(ch, fn) },
  dialog: { showOpenDialog: async () => ({ canceled: true, filePaths: [] }) },
}));
vi.mock('../../resources/icon.png?asset', () => ({ default: '/icon.png' }));

const { createWindow, serveArtifacts } = await import('../../main/electron/window');
const { wireIpc } = await import('../../main/electron/ipc');

const t = tempHome();
afterAll(() => t.cleanup());

beforeEach(() => {
  rec.fetched.length = 0;
  rec.opened.length = 0;
});

describe('the app window', () => {
  it('has context isolation, the sandbox, no Node integration and web security, with the named preload', () => {
    createWindow('/app/out');
    const prefs = rec.windowOptions?.webPreferences as Record<string, unknown>;
    expect(prefs).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true });
    expect(prefs.preload).toBe(join('/app/out', 'preload/index.cjs'));
    expect(prefs).not.toHaveProperty('nodeIntegrationInWorker');
    expect(prefs).not.toHaveProperty('webviewTag');
  });

  it('never opens a window or navigates; https links go to the browser', () => {
    createWindow('/app/out');
    expect(rec.openHandler?.({ url: 'https://example.org/' })).toEqual({ action: 'deny' });
    expect(rec.openHandler?.({ url: 'file:///etc/passwd' })).toEqual({ action: 'deny' });
    expect(rec.openHandler?.({ url: 'javascript:alert(1)' })).toEqual({ action: 'deny' });
    expect(rec.opened).toEqual(['https://example.org/']);
    const e = { preventDefault: vi.fn() };
    rec.navigate?.(e);
    expect(e.preventDefault).toHaveBeenCalled();
  });

  it('loads a renderer whose CSP allows only its own scripts, no eval, no plugins, no base or form targets', () => {
    const html = readFileSync(join(__dirname, '../../renderer/index.html'), 'utf8');
    const csp = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html)?.[1] ?? '';
    const dirs = Object.fromEntries(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k, v]));
    expect(dirs['default-src']).toEqual(["'self'"]);
    expect(dirs['script-src']).toEqual(["'self'", "'wasm-unsafe-eval'"]);
    expect(csp).not.toMatch(/'unsafe-eval'/);
    expect(Object.values(dirs).flat()).not.toContain('*');
    expect(dirs['object-src']).toEqual(["'none'"]);
    expect(dirs['base-uri']).toEqual(["'none'"]);
    expect(dirs['form-action']).toEqual(["'none'"]);
    expect(dirs['connect-src'].every((s: string) => s === "'self'" || /^ws:\/\/(127\.0\.0\.1|localhost):\*$/.test(s))).toBe(true);
  });
});

describe('the artifact protocol', () => {
  it('serves run and dataset files only: not the database, the lock, the logs, nor anything outside', async () => {
    mkdirSync(join(t.home, 'runs', '3', 'samples'), { recursive: true });
    writeFileSync(join(t.home, 'runs', '3', 'samples', 'grid.png'), 'png');
    writeFileSync(join(t.home, 'lab.db'), 'db');
    serveArtifacts(t.home);
    const get = async (path: string) => (await rec.artifactHandler!({ url: `toklab-artifact://lab/${path}` })).status;
    expect(await get('runs/3/samples/grid.png')).toBe(200);
    expect(rec.fetched).toEqual([pathToFileURL(join(t.home, 'runs', '3', 'samples', 'grid.png')).toString()]);
    for (const bad of ['lab.db', 'worker.lock', 'logs/engine.log', 'runs/../lab.db', 'runs/%2e%2e/lab.db', 'datasets/..%2f..%2fetc/passwd'])
      expect(await get(bad), bad).toBe(403);
    expect(rec.fetched).toHaveLength(1);
  });
});

describe('IPC', () => {
  it('answers the app window and refuses any other sender', async () => {
    const calls: string[] = [];
    const lab = { listRuns: async () => (calls.push('listRuns'), []), onEvent: () => () => {} };
    const win = { webContents: { id: 7, send: () => {} }, isDestroyed: () => false };
    wireIpc(lab as never, () => win as never);
    const listRuns = rec.ipc.get('lab:listRuns');
    expect(listRuns).toBeDefined();
    await expect(Promise.resolve().then(() => listRuns!({ sender: { id: 99 } }, {}))).rejects.toThrow(/refused: unknown sender/);
    expect(calls).toEqual([]);
    await expect(Promise.resolve(listRuns!({ sender: { id: 7 } }, {}))).resolves.toEqual([]);
    expect(calls).toEqual(['listRuns']);
  });
});
