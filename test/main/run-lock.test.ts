// One writer per run folder (issue "Reliability", item 3): a run whose folder another live toklab process
// is writing is not started a second time; it ends interrupted with that process named, and once the
// other process is gone its stale lock is taken over and the run completes.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanupsAfterEach, openTestLab, tempHome } from './helpers';

const later = cleanupsAfterEach();

describe('run folder writer lock', () => {
  it('refuses a second writer, names it, and takes over once it is gone', async () => {
    const t = tempHome();
    later(t.cleanup);
    const other = spawn('sleep', ['60'], { stdio: 'ignore' });
    later(() => void other.kill('SIGKILL'));
    // a fresh home's first run is run 1: another process holds its folder
    mkdirSync(join(t.home, 'runs', '1'), { recursive: true });
    writeFileSync(join(t.home, 'runs', '1', '.writer.lock'), String(other.pid));
    const lab = openTestLab(t.home);
    later(() => lab.close());
    const run = await lab.startJob({ kind: 'selftest', spec: { steps: 3, seed: 1 } });
    expect(run.id).toBe(1);
    const first = await lab.waitForRun(run.id);
    expect(first.status).toBe('interrupted');
    expect(first.error).toMatch(new RegExp(`another toklab process \\(pid ${other.pid}\\) is writing this run's folder; stop it .*then resume the run`));
    expect(lab.repo.metrics(run.id)).toEqual([]); // nothing ran
    other.kill('SIGKILL');
    await new Promise((r) => other.once('exit', r));
    await lab.resumeRun(run.id);
    expect((await lab.waitForRun(run.id)).status).toBe('done');
  });
});
