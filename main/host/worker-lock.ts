// One queue worker per lab home: the host holding `worker.lock` runs jobs; any other host
// (a CLI next to a running app) only enqueues. And one writer per run folder: the host running a
// job holds `<run>/.writer.lock` while its engine writes there. A lock whose process is gone is taken over.
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Lock files held by this process (a second Lab in the same process must not take over). */
const held = new Set<string>();

export interface WorkerLock {
  release(): void;
}

/** Returns the lab home's queue lock, or the pid of the live process that holds it. */
export function acquireWorkerLock(home: string): WorkerLock | { heldBy: number } {
  return acquirePidLock(join(home, 'worker.lock'));
}

/** The run folder's writer lock, or the pid of the live process whose engine writes there. */
export function acquireRunLock(runDir: string): WorkerLock | { heldBy: number } {
  return acquirePidLock(join(runDir, '.writer.lock'));
}

/** One `toklab import` at a time into a lab home (its staging folders and journal are per home). */
export function acquireImportLock(home: string): WorkerLock | { heldBy: number } {
  return acquirePidLock(join(home, 'import.lock'));
}

/** The pid of the live process that holds the lab home's queue, or null (no lock, or its process is gone). Only reads. */
export function queueHolder(home: string): number | null {
  let pid: number;
  try {
    pid = Number(readFileSync(join(home, 'worker.lock'), 'utf8'));
  } catch {
    return null;
  }
  return Number.isInteger(pid) && pid > 0 && alive(pid) ? pid : null;
}

function acquirePidLock(file: string): WorkerLock | { heldBy: number } {
  if (held.has(file)) return { heldBy: process.pid };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      held.add(file);
      return {
        release: () => {
          held.delete(file);
          try {
            if (readFileSync(file, 'utf8') === String(process.pid)) unlinkSync(file);
          } catch {
            /* already gone */
          }
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(readFileSync(file, 'utf8'));
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) return { heldBy: pid };
      unlinkSync(file);
    }
  }
  throw new Error(`Could not take ${file}; remove it if no toklab is running.`);
}
