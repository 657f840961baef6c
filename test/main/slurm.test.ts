// The smoke study through a real single-node Slurm cluster (Debian's slurmctld/slurmd/munge, started
// here by scripts/slurm-local.sh in a private folder and stopped by PID): submit, watch, kill a task
// mid-way (reported failed), resubmit it (it and what depends on it run again), collect twice (the
// second adds nothing), and compare every number with a local smoke study of the same seeds.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scancel } from '../../main/host/slurm/cluster';
import type { TaskStatus } from '../../main/host/slurm/submission';
import { listSubmissions, loadSubmission, submissionStatus } from '../../main/host/slurm/submission';
import { runStudy, STUDY_PLANS } from '../../main/host/study';
import type { StudyReportJson } from '../../main/report/study-report';
import { openTestLab } from './helpers';

const ROOT = join(__dirname, '../..');
const has = (bin: string): boolean => {
  try {
    execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};
const missing = ['munged', 'slurmctld', 'slurmd', 'sbatch', 'squeue', 'scontrol', 'scancel', 'runuser'].filter((b) => !has(b));
const isRoot = process.getuid?.() === 0;
const reason = !isRoot ? 'not root (slurmd must run as root)' : missing.length ? `not installed: ${missing.join(', ')} (apt-get install -y slurmctld slurmd munge slurm-client)` : null;
if (reason) console.log(`slurm integration test skipped: ${reason}`);

const dir = mkdtempSync(join(tmpdir(), 'toklab-slurm-'));
chmodSync(dir, 0o755); // munged runs as the munge user and must reach its socket folder
const clusterDir = join(dir, 'cluster');
const home = join(dir, 'home');
// the smoke plan's extractor is far below the 0.9 floor; its sweep evaluations run anyway (and say so)
const env = (): NodeJS.ProcessEnv => ({ ...process.env, TOKLAB_BACKEND: 'wasm', TOKLAB_MIN_EXTRACTOR_ACCURACY: '0' });
const toklab = (...args: string[]): string => execFileSync(process.execPath, [join(ROOT, 'bin/toklab.mjs'), '--home', home, ...args], { cwd: ROOT, env: env(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, f: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const t0 = Date.now();
  while (!(await f())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(300);
  }
}

const reportOf = (h: string): StudyReportJson => {
  const d = readdirSync(join(h, 'exports')).filter((x) => x.startsWith('study-smoke')).sort().pop()!;
  return JSON.parse(readFileSync(join(h, 'exports', d, 'report.json'), 'utf8')) as StudyReportJson;
};

describe.skipIf(reason !== null)('toklab slurm (single-node cluster)', () => {
  beforeAll(() => {
    const out = execFileSync('bash', [join(ROOT, 'scripts/slurm-local.sh'), 'start', clusterDir], { encoding: 'utf8' });
    process.env.SLURM_CONF = /SLURM_CONF=(\S+)/.exec(out)![1];
  }, 60_000);
  afterAll(() => {
    execFileSync('bash', [join(ROOT, 'scripts/slurm-local.sh'), 'stop', clusterDir]);
    delete process.env.SLURM_CONF;
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs the smoke study as job arrays; a killed task is failed, resubmitted and finished; collect merges exactly once; a sweep runs a task per tokenizer; numbers equal local runs', async () => {
    const out = toklab('slurm', 'submit', 'study', '--plan', 'smoke');
    expect(out).toMatch(/submitted 7 tasks in 3 chained arrays/);
    const root = listSubmissions(home)[0];
    const sub = () => loadSubmission(root);
    const byId = async (): Promise<Map<string, TaskStatus>> => new Map((await submissionStatus(sub())).map((s) => [s.id, s]));

    // kill the last chain task once it runs: it is reported failed, and nothing else is
    // mid-way: toklab runs in it and one of its steps reports progress
    await until('chain-2 to be mid-way', async () => {
      const c = (await byId()).get('chain-2')!;
      return c.status === 'running' && c.progress !== null;
    }, 300_000);
    const killed = (await byId()).get('chain-2')!.jobId!;
    await scancel([killed]);
    await until('chain-2 to be reported failed', async () => (await byId()).get('chain-2')!.status === 'failed', 60_000);
    expect((await byId()).get('chain-2')!.note).toMatch(/cancelled while running|stopped without finishing/);
    await until('the other tasks', async () => [...(await byId()).values()].filter((s) => s.id !== 'chain-2').every((s) => s.status === 'done'), 300_000);

    // a collect now takes the finished tasks only; the killed one waits
    const first = JSON.parse(toklab('slurm', 'collect', '--json')) as { imported: { task: string }[]; waiting: { task: string; status: string }[]; report: string[] };
    expect(first.waiting).toEqual([expect.objectContaining({ task: 'chain-2', status: 'failed' })]);
    expect(first.report).toEqual([]);

    // resubmit: the task alone (nothing depends on it) runs again in its own home and finishes
    expect(toklab('slurm', 'resubmit', 'chain-2')).toMatch(/chain-2: submitted as job \d+_2/);
    await until('the resubmitted chain-2', async () => (await byId()).get('chain-2')!.status === 'done', 300_000);
    expect((await byId()).get('chain-2')!.attempts).toBe(2);

    // collect: everything now; the report comes from the merged home; a second collect adds nothing
    const second = JSON.parse(toklab('slurm', 'collect', '--json')) as Omit<typeof first, 'imported'> & { imported: { task: string; runsAdded: number }[] };
    expect(second.waiting).toEqual([]);
    expect(second.report.some((f) => f.endsWith('report.json'))).toBe(true);
    const runsAfter = JSON.parse(toklab('runs', 'list', '--json')) as { id: number }[];
    const third = JSON.parse(toklab('slurm', 'collect', '--json')) as typeof second;
    expect(third.imported.every((i) => i.runsAdded === 0)).toBe(true);
    expect((JSON.parse(toklab('runs', 'list', '--json')) as unknown[]).length).toBe(runsAfter.length);
    // one run per study step, and none twice though chain-2 ran twice: a dataset, a feature network,
    // 3 × (tokenizer, eval, token cache, generator, gFID)
    expect(runsAfter.length).toBe(17);

    // a pFID sweep of two of the merged tokenizers: one task each, joined to the sweep at collect
    const toks = (JSON.parse(toklab('runs', 'list', '--kind', 'tokenizer', '--json')) as { id: number; name: string }[]).sort((x, y) => x.id - y.id).slice(0, 2);
    expect(toklab('slurm', 'submit', 'sweep', '--tokenizers', toks.map((t) => t.id).join(','), '--alpha', '0.5,0.9', '--delta', '4', '--delta-mode', 'abs', '--n', '50')).toMatch(/submitted 2 tasks/);
    const sweepRoot = listSubmissions(home)[1];
    await until('the sweep tasks', async () => (await submissionStatus(loadSubmission(sweepRoot))).every((s) => s.status === 'done'), 300_000);
    toklab('slurm', 'collect', '--root', sweepRoot);
    toklab('slurm', 'collect', '--root', sweepRoot);
    const sweeps = JSON.parse(toklab('runs', 'list', '--kind', 'eval', '--json')) as { id: number; parentId: number; sweepId: number | null }[];
    const inSweep = sweeps.filter((r) => r.sweepId !== null);
    expect(inSweep.map((r) => r.parentId).sort()).toEqual(toks.map((t) => t.id).sort());

    // the same numbers as a local smoke study of the same seeds, and as a local evaluation with the sweep's settings
    const localHome = join(dir, 'local');
    const lab = openTestLab(localHome, 2);
    let localSweepPfid: number;
    try {
      await runStudy(lab, STUDY_PLANS.smoke, () => {});
      const localTok = (await lab.listRuns({ kind: 'tokenizer' })).find((r) => r.name === toks[0].name)!;
      const ev = await lab.startJob({ kind: 'eval-tokenizer', spec: { tokenizer: localTok.id, alphas: [0.5, 0.9], deltas: [4], deltaMode: 'abs', n: 50, seed: 0, minExtractorAccuracy: 0 } });
      expect((await lab.waitForRun(ev.id)).status).toBe('done');
      localSweepPfid = (await lab.listScores({ runIds: [ev.id], metric: 'eval/pfid_mean' }))[0].value;
    } finally {
      await lab.close();
    }
    const slurmSweepRun = inSweep.find((r) => r.parentId === toks[0].id)!;
    expect(JSON.parse(toklab('runs', 'show', String(slurmSweepRun.id), '--json')).scores.find((x: { metric: string }) => x.metric === 'eval/pfid_mean').value).toBe(localSweepPfid);
    const a = reportOf(home);
    const b = reportOf(localHome);
    expect(a.extractor.testAccuracy).toBe(b.extractor.testAccuracy);
    expect(a.tokenizers.map((t) => [t.key, t.seed, t.rfid, t.pfidMean, t.psnr, t.reconAcc, t.usage])).toEqual(b.tokenizers.map((t) => [t.key, t.seed, t.rfid, t.pfidMean, t.psnr, t.reconAcc, t.usage]));
    expect(a.generators.map((g) => g.settings.map((s) => [s.cfg, s.gfid, s.sampleAcc]))).toEqual(b.generators.map((g) => g.settings.map((s) => [s.cfg, s.gfid, s.sampleAcc])));
  }, 900_000);
});
