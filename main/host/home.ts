// Where the lab lives: --home DIR, else TOKLAB_HOME, else ~/.toklab (the app passes userData).
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export function resolveHome(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  const dir = flag ?? env.TOKLAB_HOME ?? join(homedir(), '.toklab');
  return resolve(dir);
}

export function ensureHome(home: string): void {
  for (const sub of ['', 'datasets', 'runs', 'exports', 'logs']) mkdirSync(join(home, sub), { recursive: true });
}
