// Spawns the engine as an Electron utilityProcess (off the main thread, crash-isolated), behind
// the same EngineChannel the plain-Node launcher implements.
import { utilityProcess } from 'electron';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { EngineChannel, EngineLauncher } from '../host/engine-channel';

export function utilityLauncher(entry: string, home: string): EngineLauncher {
  return () => {
    mkdirSync(join(home, 'logs'), { recursive: true });
    const log = createWriteStream(join(home, 'logs', 'engine.log'), { flags: 'a' });
    const child = utilityProcess.fork(entry, [], { stdio: 'pipe', serviceName: 'toklab engine', env: { ...process.env, TOKLAB_ENGINE: '1' } });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    const channel: EngineChannel = {
      get pid() {
        return child.pid ?? null;
      },
      send: (req) => child.postMessage(req),
      onMessage: (cb) => child.on('message', cb),
      onExit: (cb) => child.on('exit', (code) => cb(code, null)),
      kill: () => {
        child.kill();
      },
    };
    return channel;
  };
}
