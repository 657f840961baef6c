// Where a run's checkpoints live and what they are called. Free of tfjs, so the host reads the same
// names the trainers write (the resume hint, the metric trim on resume).
import fs from 'node:fs';
import path from 'node:path';

const CKPT = /^ckpt-(\d+)\.bin$/;

export function checkpointDir(runDir: string): string {
  return path.join(runDir, 'checkpoints');
}

export function checkpointFile(runDir: string, step: number): string {
  return path.join(checkpointDir(runDir), `ckpt-${String(step).padStart(9, '0')}.bin`);
}

/** Checkpoint files of a run, oldest first (half-written `.tmp` files are not checkpoints). */
export function listCheckpoints(runDir: string): string[] {
  const dir = checkpointDir(runDir);
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => CKPT.test(f))
    .sort()
    .map((f) => path.join(dir, f));
}

/** Path of the newest complete checkpoint, or null. */
export function latestCheckpoint(runDir: string): string | null {
  const all = listCheckpoints(runDir);
  return all.length ? all[all.length - 1] : null;
}

/** The optimizer step a checkpoint file was written at. */
export function checkpointStep(file: string): number {
  const m = CKPT.exec(path.basename(file));
  if (!m) throw new Error(`${file} is not a checkpoint file (ckpt-<step>.bin)`);
  return Number(m[1]);
}
