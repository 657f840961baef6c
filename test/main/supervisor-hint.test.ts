// The message of a run interrupted by an engine crash says what resuming will do (#12): continue from
// the checkpoint it names, or start over when the job wrote none.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resumeHint } from '../../main/host/supervisor';

const dir = mkdtempSync(join(tmpdir(), 'toklab-hint-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('resumeHint', () => {
  it('promises no checkpoint that does not exist, and names the newest one that does', () => {
    expect(resumeHint(dir)).toMatch(/wrote no checkpoint, so resuming starts it over/);
    mkdirSync(join(dir, 'checkpoints'));
    writeFileSync(join(dir, 'checkpoints', 'ckpt-000000010.bin.tmp'), '');
    expect(resumeHint(dir)).toMatch(/starts it over/); // a half-written file is not a checkpoint
    writeFileSync(join(dir, 'checkpoints', 'ckpt-000000010.bin'), '');
    writeFileSync(join(dir, 'checkpoints', 'ckpt-000000020.bin'), '');
    expect(resumeHint(dir)).toBe('resume the run to continue from its last checkpoint (ckpt-000000020.bin).');
  });
});
