// Starts `toklab serve` on a lab home as a real child process and hands back its printed URL.
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');

export interface Server {
  url: string;
  home: string;
  stop(): Promise<void>;
}

export function tempLabHome(): string {
  return mkdtempSync(join(tmpdir(), 'toklab-e2e-'));
}

export async function startServe(home: string): Promise<Server> {
  const child: ChildProcess = spawn(process.execPath, [join(ROOT, 'bin/toklab.mjs'), '--home', home, 'serve'], {
    cwd: ROOT,
    env: { ...process.env, TOKLAB_BACKEND: 'wasm', TOKLAB_MIN_EXTRACTOR_ACCURACY: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`toklab serve printed no URL in 60 s: ${err}`)), 60_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /toklab serve: (http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on('exit', (code) => reject(new Error(`toklab serve exited with ${code}: ${err}`)));
  });
  return {
    url,
    home,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.on('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
