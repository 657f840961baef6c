// How the host talks to an engine process, whatever spawned it: child_process.fork (CLI, serve,
// tests) or Electron's utilityProcess (the app). The supervisor only sees this interface.
import { fork } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { EngineRequest } from '../../engine/protocol';

export interface EngineChannel {
  readonly pid: number | null;
  send(req: EngineRequest): void;
  onMessage(cb: (m: unknown) => void): void;
  onExit(cb: (code: number | null, signal: string | null) => void): void;
  kill(): void;
}

export type EngineLauncher = () => EngineChannel;

/** The engine entry as TypeScript source, run through tsx (no build step for CLI and serve). */
export const ENGINE_ENTRY_TS = join(dirname(fileURLToPath(import.meta.url)), '../../engine/host.ts');

/**
 * tsx's loader as an absolute URL: `--import tsx` would resolve against the working directory, so a
 * CLI started from another folder could not start its engine.
 */
function tsxLoader(): string {
  try {
    return pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  } catch {
    return 'tsx';
  }
}

/**
 * The environment of each of `engines` engine processes: the machine's cores shared out between
 * them (TOKLAB_THREADS threads each, at least 1), unless the user set TOKLAB_THREADS.
 */
export function engineEnv(engines: number, env: NodeJS.ProcessEnv = process.env, cores = availableParallelism()): NodeJS.ProcessEnv {
  if (env.TOKLAB_THREADS !== undefined && env.TOKLAB_THREADS.trim() !== '') return env;
  return { ...env, TOKLAB_THREADS: String(Math.max(1, Math.floor(cores / Math.max(1, engines)))) };
}

/** fork() the engine; its stdout/stderr go to `<home>/logs/engine.log` for post-mortems. */
export function forkLauncher(home: string, entry = ENGINE_ENTRY_TS, env: NodeJS.ProcessEnv = process.env): EngineLauncher {
  return () => {
    mkdirSync(join(home, 'logs'), { recursive: true });
    const log = createWriteStream(join(home, 'logs', 'engine.log'), { flags: 'a' });
    const child = fork(entry, [], {
      execArgv: entry.endsWith('.ts') ? ['--import', tsxLoader()] : [],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: { ...env, TOKLAB_ENGINE: '1' },
    });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    child.on('exit', () => setTimeout(() => log.end(), 50));
    return {
      get pid() {
        return child.pid ?? null;
      },
      send: (req) => {
        if (child.connected) child.send(req);
      },
      onMessage: (cb) => child.on('message', cb),
      onExit: (cb) => child.on('exit', (code, signal) => cb(code, signal)),
      kill: () => child.kill('SIGKILL'),
    };
  };
}
