// startJob is atomic (issue "Reliability", item 8): when the run folder cannot be made, nothing is
// queued, the caller gets an error naming the folder and the fix, and the lab opens again cleanly.
// A file where runs/ should be blocks the folder even for root (permissions would not).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Lab } from '../../main/host/lab';
import { cleanupsAfterEach, tempHome } from './helpers';

const later = cleanupsAfterEach();

describe('startJob when the run folder cannot be written', () => {
  it('queues nothing, says which folder and what to do, and the lab keeps working', async () => {
    const t = tempHome();
    later(t.cleanup);
    process.env.TOKLAB_BACKEND = 'wasm';
    const lab = new Lab({ home: t.home, frontDoor: 'cli' });
    const runs = join(t.home, 'runs');
    rmSync(runs, { recursive: true, force: true });
    writeFileSync(runs, 'not a folder');
    await expect(lab.startJob({ kind: 'selftest', spec: { steps: 3, seed: 1 } })).rejects.toThrow(/cannot create the run folder .*runs[/\\]1 \(ENOTDIR\); nothing was queued\. Make .*runs writable/);
    expect(await lab.listRuns({})).toEqual([]);
    await lab.close();

    // a restart finds no half-made run, and once runs/ is a folder again jobs run
    rmSync(runs);
    mkdirSync(runs);
    const again = new Lab({ home: t.home, frontDoor: 'cli' });
    later(() => again.close());
    expect(await again.listRuns({})).toEqual([]);
    const run = await again.startJob({ kind: 'selftest', spec: { steps: 3, seed: 1 } });
    expect((await again.waitForRun(run.id)).status).toBe('done');
  });
});
