// The host's job queue on a real forked engine: live statuses, crash recovery, cancel,
// persistence across restarts, and refusal of invalid configs before anything is queued.
import { afterEach, describe, expect, it } from 'vitest';
import type { LabEvent, Progress, RunStatus } from '../../preload/contract';
import { Lab } from '../../main/host/lab';
import { openTestLab, tempHome } from './helpers';

let labs: Lab[] = [];
let cleanups: (() => void)[] = [];
afterEach(async () => {
  for (const l of labs) await l.close();
  for (const c of cleanups) c();
  labs = [];
  cleanups = [];
});

function setup(engines = 1): { lab: Lab; home: string } {
  const t = tempHome();
  cleanups.push(t.cleanup);
  const lab = openTestLab(t.home, engines);
  labs.push(lab);
  return { lab, home: t.home };
}

const until = async (cond: () => boolean, ms = 60_000): Promise<void> => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('lab job queue', () => {
  it('runs the self-test: queued → running → done, live loss values, metrics in SQLite', async () => {
    const { lab } = setup();
    const statuses: RunStatus[] = [];
    const live: number[] = [];
    lab.onEvent((e: LabEvent) => {
      if (e.type === 'run') statuses.push(e.run.status);
      if (e.type === 'metrics') live.push(...e.points.map((p) => p.value));
    });
    const run = await lab.startJob({ kind: 'selftest', spec: { steps: 25, seed: 3 } });
    const final = await lab.waitForRun(run.id);
    expect(final.status).toBe('done');
    expect(final.backend).toMatch(/^wasm, \d+ threads?$/); // the run records its thread count
    expect(statuses.filter((s, i) => s !== statuses[i - 1])).toEqual(['queued', 'running', 'done']);
    const detail = await lab.getRun(run.id);
    const loss = detail.metrics.find((m) => m.name === 'train/loss');
    expect(loss?.steps).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(loss?.values).toEqual(live);
    const v = loss!.values as number[];
    expect(v.slice(-5).reduce((a, b) => a + b) / 5).toBeLessThan(v.slice(0, 5).reduce((a, b) => a + b) / 5);
    expect(detail.result).toMatchObject({ steps: 25, backend: 'wasm' });
    expect(final.progress).toMatchObject({ done: 25, total: 25, message: 'step 25/25', elapsedSeconds: expect.any(Number) });
    expect(final.progress!.resumedFrom).toBeUndefined();
  });

  it('marks the run interrupted when the engine dies, and runs the next job on a fresh engine', async () => {
    const { lab } = setup();
    const a = await lab.startJob({ kind: 'selftest', spec: { steps: 500, stepDelayMs: 20 } });
    const b = await lab.startJob({ kind: 'selftest', spec: { steps: 3 } });
    await until(() => (lab.repo.getRun(a.id).progress?.done ?? 0) >= 1 || lab.repo.metrics(a.id).length > 0);
    const firstPid = lab.supervisor.status().pid;
    lab.supervisor.killForTest();
    const ra = await lab.waitForRun(a.id);
    expect(ra.status).toBe('interrupted');
    expect(ra.error).toMatch(/engine process exited \(signal SIGKILL\) while the job was running/);
    const rb = await lab.waitForRun(b.id);
    expect(rb.status).toBe('done');
    const st = lab.supervisor.status();
    expect(st.restarts).toBe(1);
    expect(st.pid).not.toBe(firstPid);
    // the interrupted run can be resumed and then completes
    await lab.resumeRun(a.id);
    expect(lab.repo.getRun(a.id).status).toBe('queued');
    await lab.cancelRun(a.id);
    await until(() => lab.repo.getRun(a.id).status === 'cancelled');
  });

  it('cancels a running job and a queued one', async () => {
    const { lab } = setup();
    const a = await lab.startJob({ kind: 'selftest', spec: { steps: 1000, stepDelayMs: 10 } });
    const b = await lab.startJob({ kind: 'selftest', spec: { steps: 3 } });
    const waiting = lab.waitForRun(b.id);
    await lab.cancelRun(b.id);
    expect(lab.repo.getRun(b.id).status).toBe('cancelled');
    expect((await waiting).status).toBe('cancelled');
    await until(() => lab.repo.getRun(a.id).status === 'running');
    await lab.cancelRun(a.id);
    const ra = await lab.waitForRun(a.id);
    expect(ra.status).toBe('cancelled');
    expect(ra.error).toBeNull();
  });

  it('a resumed run logs each step once (issue "Reliability", 11: resume duplicated metric rows)', async () => {
    const { lab } = setup();
    const a = await lab.startJob({ kind: 'selftest', spec: { steps: 120, stepDelayMs: 10, seed: 2 } });
    await until(() => (lab.repo.metrics(a.id).find((m) => m.name === 'train/loss')?.steps.length ?? 0) >= 5);
    await lab.cancelRun(a.id);
    expect((await lab.waitForRun(a.id)).status).toBe('cancelled');
    const logs: string[] = [];
    const seen: Progress[] = [];
    lab.onEvent((e) => {
      if (e.type === 'log' && e.runId === a.id) logs.push(e.message);
      if (e.type === 'progress' && e.runId === a.id) seen.push(e.progress);
    });
    await lab.resumeRun(a.id);
    const final = await lab.waitForRun(a.id);
    expect(final.status).toBe('done');
    // progress says the resume restarted from 0, with this attempt's elapsed time, rate and ETA
    expect(logs).toContain('restarted from step 0: no checkpoint existed');
    expect(final.progress).toMatchObject({ done: 120, total: 120, resumedFrom: 0 });
    const mid = seen.find((p) => p.done >= 60 && p.rate !== undefined)!;
    expect(mid.elapsedSeconds!).toBeGreaterThan(0.5);
    // 10 ms per step: the rate is below 100 steps/s, and the ETA is what is left at that rate
    expect(mid.rate!).toBeGreaterThan(1);
    expect(mid.rate!).toBeLessThan(100);
    expect(mid.etaSeconds!).toBeCloseTo((120 - mid.done) / mid.rate!, 6);
    // the self-test keeps no checkpoint, so the resume starts over and logs steps 1..120 again: once each
    const loss = lab.repo.metrics(a.id).find((m) => m.name === 'train/loss');
    expect(loss?.steps).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
  });

  it('keeps queued jobs across a host restart and marks the one in flight interrupted', async () => {
    const t = tempHome();
    cleanups.push(t.cleanup);
    const lab1 = openTestLab(t.home);
    const a = await lab1.startJob({ kind: 'selftest', spec: { steps: 1000, stepDelayMs: 10 } });
    const b = await lab1.startJob({ kind: 'selftest', spec: { steps: 2 } });
    await until(() => lab1.repo.getRun(a.id).status === 'running');
    await lab1.close();
    const lab2 = openTestLab(t.home);
    labs.push(lab2);
    expect(lab2.repo.getRun(a.id).status).toBe('interrupted');
    expect((await lab2.waitForRun(b.id)).status).toBe('done');
  });

  it('refuses an invalid config before anything is queued', async () => {
    const { lab } = setup();
    await expect(lab.startJob({ kind: 'selftest', spec: { steps: -1 } })).rejects.toThrow(/steps: is -1, outside \[1, 10000\]/);
    await expect(lab.startJob({ kind: 'selftest', spec: { steps: 'many' } })).rejects.toThrow(/steps: must be a number/);
    expect(await lab.listRuns({})).toEqual([]);
  });

  it('lets only one host per lab home run jobs', async () => {
    const t = tempHome();
    cleanups.push(t.cleanup);
    const lab1 = openTestLab(t.home);
    const lab2 = openTestLab(t.home);
    labs.push(lab1, lab2);
    expect(lab1.isWorker).toBe(true);
    expect(lab2.isWorker).toBe(false);
  });
});

describe('prerequisites', () => {
  it('fails a job whose prerequisite did not end done, naming it, instead of running without it', async () => {
    const t = tempHome();
    cleanups.push(t.cleanup);
    const lab = openTestLab(t.home);
    labs.push(lab);
    const a = await lab.startJob({ kind: 'selftest', spec: { steps: 1000, stepDelayMs: 10 } });
    // b waits for a (as a generator waits for its token extraction)
    const b = lab.repo.createRun({ kind: 'selftest', jobKind: 'selftest', name: 'dependent', config: {}, seed: 0, appVersion: 't' });
    lab.repo.enqueue(b.id, 'selftest', { steps: 2 }, 1, [a.id]);
    expect(lab.repo.jobDeps(lab.repo.openJobForRun(b.id)!.id)).toEqual([a.id]);
    await until(() => lab.repo.getRun(a.id).status === 'running');
    await lab.cancelRun(a.id);
    const rb = await lab.waitForRun(b.id);
    expect(rb.status).toBe('failed');
    expect(rb.error).toMatch(new RegExp(`prerequisite run ${a.id} \\(.*\\) ended cancelled`));
    expect(lab.repo.metrics(b.id)).toEqual([]);
  });

  it('runs the dependent once its prerequisite is done', async () => {
    const { lab } = setup();
    const a = await lab.startJob({ kind: 'selftest', spec: { steps: 5, stepDelayMs: 300 } });
    const b = lab.repo.createRun({ kind: 'selftest', jobKind: 'selftest', name: 'dependent', config: {}, seed: 0, appVersion: 't' });
    lab.repo.enqueue(b.id, 'selftest', { steps: 2 }, 1, [a.id]);
    expect((await lab.waitForRun(b.id)).status).toBe('done');
  });

  it('with two engines runs two independent jobs at once, and holds a dependent back until its prerequisite is done', async () => {
    const { lab } = setup(2);
    const running = new Set<number>();
    let both = false;
    lab.onEvent((e) => {
      if (e.type !== 'run') return;
      if (e.run.status === 'running') running.add(e.run.id);
      else running.delete(e.run.id);
      if (running.size === 2) both = true;
    });
    const a = await lab.startJob({ kind: 'selftest', spec: { steps: 6, stepDelayMs: 250 } });
    const b = lab.repo.createRun({ kind: 'selftest', jobKind: 'selftest', name: 'dependent', config: {}, seed: 0, appVersion: 't' });
    lab.repo.enqueue(b.id, 'selftest', { steps: 2 }, 1, [a.id]);
    const c = await lab.startJob({ kind: 'selftest', spec: { steps: 6, stepDelayMs: 250 } });
    const [ra, rb, rc] = await Promise.all([a, b, c].map((r) => lab.waitForRun(r.id)));
    expect([ra.status, rb.status, rc.status]).toEqual(['done', 'done', 'done']);
    expect(both, 'a and c ran side by side').toBe(true);
    // the dependent started only after its prerequisite finished, although an engine was free earlier
    expect(Date.parse(rb.startedAt!)).toBeGreaterThanOrEqual(Date.parse(ra.finishedAt!));
  });

  it('the queue holder runs a job another process queued without an event of its own; a read-only lab never takes the queue', async () => {
    const { lab, home } = setup();
    // a second host on this home (in one process the lock says "held"): it can only queue
    const other = new Lab({ home, frontDoor: 'cli' });
    labs.push(other);
    expect(other.isWorker).toBe(false);
    const run = await other.startJob({ kind: 'selftest', spec: { steps: 2 } });
    // only the holder's poll can find it; before the poll the holder heard nothing
    const final = await lab.waitForRun(run.id);
    expect(final.status).toBe('done');
    await lab.close();
    // with the queue free, a reader still does not take it and leaves queued jobs alone
    const queued = await other.startJob({ kind: 'selftest', spec: { steps: 2 } });
    const reader = new Lab({ home, frontDoor: 'cli', queueHolder: false });
    labs.push(reader);
    expect(reader.isWorker).toBe(false);
    await new Promise((r) => setTimeout(r, 2500));
    expect((await reader.getRun(queued.id)).status).toBe('queued');
    await reader.close();
    // the next holder picks it up
    const next = new Lab({ home, frontDoor: 'cli' });
    labs.push(next);
    expect(next.isWorker).toBe(true);
    expect((await next.waitForRun(queued.id)).status).toBe('done');
  });
});
