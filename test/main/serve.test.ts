// `toklab serve`: token on every request and the WebSocket, loopback host names only, artifact
// paths confined to the lab home, the LabApi over the WebSocket.
import { mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Lab } from '../../main/host/lab';
import type { Served } from '../../main/serve/server';
import { serve } from '../../main/serve/server';
import { openTestLab, tempHome } from './helpers';

let lab: Lab | null = null;
let served: Served | null = null;
let cleanup = (): void => {};
afterEach(async () => {
  await served?.close();
  await lab?.close();
  cleanup();
});

async function start(): Promise<Served> {
  const t = tempHome();
  cleanup = t.cleanup;
  const rendererDir = mkdtempSync(join(tmpdir(), 'toklab-renderer-'));
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>toklab</title>');
  mkdirSync(join(t.home, 'runs/1'), { recursive: true });
  writeFileSync(join(t.home, 'runs/1/grid.png'), 'png-bytes');
  writeFileSync(join(tmpdir(), 'toklab-secret.txt'), 'secret');
  lab = openTestLab(t.home);
  served = await serve({ lab, rendererDir });
  return served;
}

function wsCall(url: string, method: string, params: unknown[], headers: Record<string, string> = {}): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('error', reject);
    ws.on('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.on('open', () => ws.send(JSON.stringify({ id: 1, method, params })));
    ws.on('message', (d) => {
      const f = JSON.parse(String(d)) as { id?: number; ok?: boolean; result?: unknown; error?: string };
      if (f.id !== 1) return;
      ws.close();
      if (f.ok) resolve(f.result);
      else reject(new Error(f.error));
    });
  });
}

describe('toklab serve', () => {
  it('binds to 127.0.0.1 and prints a URL that carries the token', async () => {
    const s = await start();
    expect(s.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${s.port}/\\?token=[0-9a-f]{48}$`));
  });

  it('refuses requests without the token, and sets a strict cookie with it', async () => {
    const s = await start();
    const base = `http://127.0.0.1:${s.port}`;
    expect((await fetch(`${base}/`)).status).toBe(401);
    expect((await fetch(`${base}/?token=${'0'.repeat(48)}`)).status).toBe(401);
    const ok = await fetch(s.url);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('set-cookie')).toMatch(/toklab_token=[0-9a-f]+; HttpOnly; SameSite=Strict/);
    expect(ok.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    const withCookie = await fetch(`${base}/index.html`, { headers: { cookie: `toklab_token=${s.token}` } });
    expect(withCookie.status).toBe(200);
  });

  it('refuses foreign Host headers (DNS rebinding)', async () => {
    const s = await start();
    const http = await import('node:http');
    const status = await new Promise<number>((resolve) => {
      http.get({ host: '127.0.0.1', port: s.port, path: `/?token=${s.token}`, headers: { host: `evil.example:${s.port}` } }, (res) => resolve(res.statusCode ?? 0));
    });
    expect(status).toBe(403);
  });

  it('serves artifacts from the lab home only', async () => {
    const s = await start();
    const base = `http://127.0.0.1:${s.port}`;
    const good = await fetch(`${base}/artifacts/runs/1/grid.png?token=${s.token}`);
    expect(good.status).toBe(200);
    expect(await good.text()).toBe('png-bytes');
    for (const evil of ['..%2F..%2Ftoklab-secret.txt', '%2E%2E/%2E%2E/toklab-secret.txt', '%2Fetc%2Fpasswd'])
      expect([403, 404]).toContain((await fetch(`${base}/artifacts/${evil}?token=${s.token}`)).status);
  });

  it('answers LabApi calls over the WebSocket with the token, and refuses without it or from another origin', async () => {
    const s = await start();
    const ws = `ws://127.0.0.1:${s.port}/ws`;
    const info = (await wsCall(`${ws}?token=${s.token}`, 'appInfo', [])) as { schemaVersion: number; frontDoor: string };
    expect(info.schemaVersion).toBeGreaterThanOrEqual(1);
    await expect(wsCall(`${ws}?token=${s.token}`, 'getRun', ['x'])).rejects.toThrow(/positive whole number/);
    await expect(wsCall(`${ws}?token=wrong`, 'appInfo', [])).rejects.toThrow();
    await expect(wsCall(`${ws}?token=${s.token}`, 'appInfo', [], { origin: 'http://evil.example' })).rejects.toThrow();
  });

  it('takes an export larger than 4 MiB over the WebSocket (#12 item 2: it hit the frame cap)', async () => {
    const s = await start();
    const png = Buffer.alloc(6 * 1024 * 1024, 7);
    const file = (await wsCall(`ws://127.0.0.1:${s.port}/ws?token=${s.token}`, 'exportFile', ['big.png', `data:image/png;base64,${png.toString('base64')}`])) as string;
    expect(statSync(file).size).toBe(png.length);
  });

  it('survives request targets that do not parse and raw malformed WebSocket frames; serves no database (#12)', async () => {
    const s = await start();
    const raw = (bytes: string | Buffer, upgradeFirst = false): Promise<string> =>
      new Promise((resolve) => {
        const sock = connect(s.port, '127.0.0.1');
        let got = '';
        sock.on('data', (d) => {
          got += d.toString('latin1');
          if (upgradeFirst && got.includes('101 Switching')) sock.write(bytes);
        });
        sock.on('error', () => resolve(got));
        sock.on('close', () => resolve(got));
        sock.on('connect', () => {
          if (!upgradeFirst) sock.write(bytes);
          else
            sock.write(
              `GET /ws?token=${s.token} HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
            );
        });
        setTimeout(() => {
          sock.destroy();
          resolve(got);
        }, 1500);
      });
    // a target WHATWG URL cannot parse, on a plain request and on the upgrade path
    expect(await raw(`GET //a:99999/ HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\n\r\n`)).toMatch(/^HTTP\/1\.1 400/);
    expect(await raw(`GET //a:99999/ HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n`)).toMatch(/^HTTP\/1\.1 400/);
    // garbage that is not HTTP at all
    await raw(Buffer.from([0, 255, 13, 10, 13, 10]));
    // after the handshake: an unmasked frame, a bad opcode, RSV bits set, invalid UTF-8 in a masked text frame
    for (const frame of [Buffer.from([0x81, 0x02, 0x68, 0x69]), Buffer.from([0x83, 0x80, 1, 2, 3, 4]), Buffer.from([0xf1, 0x80, 1, 2, 3, 4]), Buffer.from([0x81, 0x82, 0, 0, 0, 0, 0xc3, 0x28])]) {
      expect(await raw(frame, true)).toMatch(/101 Switching/);
    }
    // still serving, and a valid call still works
    const base = `http://127.0.0.1:${s.port}`;
    expect((await fetch(`${base}/?token=${s.token}`)).status).toBe(200);
    expect(await wsCall(`ws://127.0.0.1:${s.port}/ws?token=${s.token}`, 'listRuns', [{}])).toEqual([]);
    // the database and other lab-home files are not artifacts
    for (const p of ['lab.db', 'worker.lock', 'runs/%2e%2e/lab.db', 'runs/..%2flab.db']) expect((await fetch(`${base}/artifacts/${p}?token=${s.token}`)).status, p).toBe(403);
    expect((await fetch(`${base}/artifacts/runs/1/grid.png?token=${s.token}`)).status).toBe(200);
  });
});
