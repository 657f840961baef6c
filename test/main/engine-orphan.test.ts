// The engine never outlives its host (#12 item 3): SIGKILL the process that forked it, and the engine
// exits on its own within seconds instead of training on into a run folder.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('engine lifetime', () => {
  it('exits when its host is killed with SIGKILL in the middle of a job', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'toklab-orphan-'));
    const parent = spawn(process.execPath, [join(__dirname, '../fixtures/scripts/engine-parent.mjs'), join(__dirname, '../../engine/host.ts'), dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    const enginePid = await new Promise<number>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('the engine did not report ready')), 60_000);
      parent.stdout.on('data', (d: Buffer) => {
        clearTimeout(t);
        resolve(Number(String(d).trim()));
      });
    });
    expect(alive(enginePid)).toBe(true);
    parent.kill('SIGKILL');
    const t0 = Date.now();
    while (alive(enginePid) && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 100));
    const gone = !alive(enginePid);
    if (!gone) process.kill(enginePid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    expect(gone, 'the engine was still running 10 s after its host died').toBe(true);
  }, 90_000);
});
