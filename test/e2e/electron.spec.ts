/// <reference lib="dom" />
// Launches the real Electron app where the Electron binary is installed; says why not elsewhere.
import { _electron as electron, expect, test } from '@playwright/test';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { LAB_METHODS } from '../../preload/contract';
import { ROOT, tempLabHome } from './serve-fixture';

function electronBinary(): string | null {
  try {
    const p = createRequire(join(ROOT, 'package.json'))('electron') as unknown;
    return typeof p === 'string' && existsSync(p) ? p : null;
  } catch {
    return null;
  }
}

const binary = electronBinary();
const reason = 'Electron binary not installed on this machine (ELECTRON_SKIP_BINARY_DOWNLOAD=1); the same renderer is tested through toklab serve';
if (!binary) console.log(`[skip] electron launch test: ${reason}`);

test('the desktop app starts, shows the backend and runs the self-test', async () => {
  test.skip(!binary, reason);
  const app = await electron.launch({ executablePath: binary!, args: [join(ROOT, 'out/main/index.js')], env: { ...process.env, TOKLAB_HOME: tempLabHome() } });
  const win = await app.firstWindow();
  await expect(win.getByTestId('backend')).toContainText('backend:');
  // no Node in the page, and the bridge exposes the named methods only
  const page = await win.evaluate(() => ({
    require: typeof (window as unknown as { require?: unknown }).require,
    process: typeof (window as unknown as { process?: unknown }).process,
    lab: Object.keys((window as unknown as { lab: object }).lab).sort(),
  }));
  expect(page.require).toBe('undefined');
  expect(page.process).toBe('undefined');
  expect(page.lab).toEqual([...LAB_METHODS, 'onEvent', 'artifactUrl'].sort());
  await win.getByTestId('start-selftest').click();
  await expect(win.getByTestId('status-1')).toHaveText('done', { timeout: 120_000 });
  await app.close();
});
