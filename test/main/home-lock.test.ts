// Lab home resolution, the one-worker lock (stale locks taken over), and crash recovery of
// sweep evaluations (re-queued) versus other runs (interrupted).
import { writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveHome } from '../../main/host/home';
import type { EngineChannel } from '../../main/host/engine-channel';
import { Lab } from '../../main/host/lab';
import { openDb } from '../../main/host/store/db';
import { Repo } from '../../main/host/store/repo';
import { acquireWorkerLock } from '../../main/host/worker-lock';
import { tempHome } from './helpers';

let cleanup = (): void => {};
afterEach(() => cleanup());

describe('lab home', () => {
  it('takes --home, else TOKLAB_HOME, else ~/.toklab', () => {
    expect(resolveHome('rel/dir', { TOKLAB_HOME: '/env/home' })).toBe(resolve('rel/dir'));
    expect(resolveHome(undefined, { TOKLAB_HOME: '/env/home' })).toBe('/env/home');
    expect(resolveHome(undefined, {})).toBe(join(homedir(), '.toklab'));
  });
});

describe('worker lock', () => {
  it('takes over a lock whose process is gone, and refuses a live holder', () => {
    const t = tempHome();
    cleanup = t.cleanup;
    writeFileSync(join(t.home, 'worker.lock'), '999999999');
    const got = acquireWorkerLock(t.home);
    expect('release' in got).toBe(true);
    // the parent of this test process is alive and is not us
    if ('release' in got) got.release();
    writeFileSync(join(t.home, 'worker.lock'), String(process.ppid));
    expect(acquireWorkerLock(t.home)).toEqual({ heldBy: process.ppid });
  });
});

describe('crash recovery', () => {
  it('re-queues a sweep evaluation that was running when the host died, and interrupts other runs', async () => {
    const t = tempHome();
    cleanup = t.cleanup;
    const repo = new Repo(openDb(join(t.home, 'lab.db')));
    const sweep = repo.createSweep('s', {});
    const inSweep = repo.createRun({ kind: 'eval', jobKind: 'eval-tokenizer', name: 'cell', config: {}, seed: 0, sweepId: sweep, appVersion: 't' });
    const plain = repo.createRun({ kind: 'selftest', jobKind: 'selftest', name: 'plain', config: {}, seed: 0, appVersion: 't' });
    for (const r of [inSweep, plain]) {
      repo.enqueue(r.id, r.jobKind, { steps: 1 });
      repo.setJobStatus(repo.openJobForRun(r.id)!.id, 'running');
      repo.markStarted(r.id, 'wasm');
    }
    repo.db.close();
    // an engine that dies at once: the test only looks at what recovery wrote before the queue runs
    const dying = (): EngineChannel => ({ pid: null, send: () => {}, onMessage: () => {}, onExit: (cb) => setTimeout(() => cb(1, null), 0), kill: () => {} });
    const lab = new Lab({ home: t.home, frontDoor: 'cli', launcher: dying });
    try {
      expect(lab.repo.getRun(plain.id)).toMatchObject({ status: 'interrupted', error: expect.stringMatching(/toklab stopped while this job was running/) });
      expect(lab.repo.getRun(inSweep.id).status).toBe('queued');
      expect(lab.repo.openJobForRun(inSweep.id)).toMatchObject({ attempt: 2 });
    } finally {
      await lab.close();
    }
  });
});
