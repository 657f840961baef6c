// `toklab slurm submit study --dry-run`: the batch scripts and sbatch lines, checked without a cluster.
// Each stage is one job array; each task's exact command is written out (a task can be re-run by hand)
// with the toklab version; the stages chain with afterok (prep → tokenizers) and aftercorr (tokenizer i
// → its chain i); Slurm's states map onto the lab's run states.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { labState } from '../../main/host/slurm/cluster';
import { downstream, studyTasks } from '../../main/host/slurm/plan';
import { clusterSubmissions, loadSubmission, prepareSweep, sbatchLines } from '../../main/host/slurm/submission';
import { STUDY_PLANS, studySteps } from '../../main/host/study';
import { APP_VERSION } from '../../main/host/version';
import { cleanupsAfterEach, tempHome } from './helpers';

const later = cleanupsAfterEach();
const ROOT = join(__dirname, '../..');

describe('slurm plan', () => {
  it('splits the smoke study into prep, one tokenizer task per run and one chain task per run; every step once', () => {
    const stages = studyTasks(STUDY_PLANS.smoke);
    expect(stages.map((s) => s.name)).toEqual(['prep', 'tokenizers', 'chains']);
    const s = studySteps(STUDY_PLANS.smoke);
    const n = s.tokenizers.length;
    expect(n).toBe(3);
    expect(stages[1].tasks).toHaveLength(n);
    expect(stages[2].tasks).toHaveLength(n);
    const steps = stages.flatMap((st) => st.tasks.flatMap((t) => t.steps));
    expect(new Set(steps).size).toBe(steps.length);
    expect(steps).toContain('gfid-k64-s0-raster');
    expect(stages[2].tasks[1].imports).toEqual(['prep', 'tok-1']);
    expect(downstream({ stages }, 'tok-1').map((t) => t.id)).toEqual(['chain-1']);
    expect(downstream({ stages }, 'prep').map((t) => t.id).sort()).toEqual(['chain-0', 'chain-1', 'chain-2', 'tok-0', 'tok-1', 'tok-2'].sort());
  });

  it('--dry-run writes the scripts and prints the chained sbatch lines without submitting', () => {
    const t = tempHome();
    later(t.cleanup);
    const root = join(t.home, 'sub');
    const out = execFileSync(process.execPath, [join(ROOT, 'bin/toklab.mjs'), '--home', t.home, 'slurm', 'submit', 'study', '--plan', 'smoke', '--partition', 'gpu', '--gres', 'gpu:1', '--time', '01:00:00', '--mem', '8G', '--array-limit', '2', '--root', root, '--dry-run'], {
      encoding: 'utf8',
      env: { ...process.env, PATH: '/usr/bin:/bin' }, // no sbatch needed (and none is called)
    });
    const lines = out.trim().split('\n');
    expect(lines[0]).toMatch(/^# 7 tasks in 3 stages; scripts in .*\/scripts \(nothing submitted\)$/);
    expect(lines.slice(1)).toEqual([
      `prep=$(sbatch --parsable ${root}/scripts/prep.sbatch)`,
      `tokenizers=$(sbatch --parsable --dependency=afterok:$prep ${root}/scripts/tokenizers.sbatch)`,
      `chains=$(sbatch --parsable --dependency=aftercorr:$tokenizers ${root}/scripts/chains.sbatch)`,
    ]);
    const script = readFileSync(join(root, 'scripts/chains.sbatch'), 'utf8');
    expect(script).toMatch(/^#!\/bin\/bash\n/);
    for (const d of ['--array=0-2%2', '--partition=gpu', '--gres=gpu:1', '--time=01:00:00', '--mem=8G', '--cpus-per-task=1', `--output=${root}/logs/chains-%a.out`]) expect(script).toContain(`#SBATCH ${d}`);
    expect(script).toContain(`# toklab ${APP_VERSION}: study --plan smoke --dataset shapes`);
    // one exact, re-runnable command per array index
    for (let i = 0; i < 3; i++) expect(script).toContain(`  ${i}) exec '${process.execPath}' '${join(ROOT, 'bin/toklab.mjs')}' slurm task --root '${root}' --task chain-${i} ;;`);
    const sub = loadSubmission(root);
    expect(sub.jobs).toEqual({});
    expect(existsSync(join(root, 'tasks'))).toBe(true);
  });

  it('a sweep is one array with a task per tokenizer, each importing only its tokenizer from the main home', () => {
    const t = tempHome();
    later(t.cleanup);
    const sub = prepareSweep({ home: t.home, sweepId: 4, name: 's', spec: { tokenizers: [3, 5], alphas: [0.5], deltas: [4], deltaMode: 'abs', n: 50, seed: 0 }, options: { partition: 'gpu' }, node: '/usr/bin/node', cli: '/x/bin/toklab.mjs' });
    expect(sub.stages.map((s) => s.name)).toEqual(['evals']);
    expect(sub.stages[0].tasks.map((x) => [x.id, x.sweep?.tokenizer, x.imports])).toEqual([['eval-3', 3, []], ['eval-5', 5, []]]);
    expect(sbatchLines(sub)).toEqual([`evals=$(sbatch --parsable ${sub.root}/scripts/evals.sbatch)`]);
    const script = readFileSync(join(sub.root, 'scripts/evals.sbatch'), 'utf8');
    expect(script).toContain('#SBATCH --array=0-1');
    expect(script).toContain('# toklab ' + APP_VERSION + ': sweep 4 (s): 2 tokenizer(s) × α {0.5} × δ {4}');
    expect(script).toContain(`  1) exec '/usr/bin/node' '/x/bin/toklab.mjs' slurm task --root '${sub.root}' --task eval-5 ;;`);
  });

  it('the Runs page still lists a submission where no Slurm client is installed, from the tasks\' own records', async () => {
    const t = tempHome();
    later(t.cleanup);
    const sub = prepareSweep({ home: t.home, sweepId: 1, name: 's', spec: { tokenizers: [3, 5], alphas: [0.5], deltas: [4], deltaMode: 'abs', n: 50, seed: 0 }, options: {}, node: '/usr/bin/node', cli: '/x/bin/toklab.mjs' });
    sub.jobs = { 'eval-3': [{ jobId: '9_0', arrayJobId: '9', submittedAt: sub.createdAt }], 'eval-5': [{ jobId: '9_1', arrayJobId: '9', submittedAt: sub.createdAt }] };
    writeFileSync(join(sub.root, 'submission.json'), JSON.stringify(sub));
    mkdirSync(join(sub.root, 'tasks/eval-3'), { recursive: true });
    writeFileSync(join(sub.root, 'tasks/eval-3/task.json'), JSON.stringify({ state: 'done', jobId: '9_0', startedAt: sub.createdAt }));
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      const [c] = await clusterSubmissions(t.home);
      expect(c.error).toMatch(/squeue is not installed/);
      expect(c.tasks.map((x) => [x.id, x.status, x.note])).toEqual([['eval-3', 'done', 'task record: done'], ['eval-5', 'queued', 'no record yet']]);
    } finally {
      process.env.PATH = path;
    }
  });

  it('maps Slurm states onto run states: a task killed mid-way is failed, preempted is interrupted', () => {
    const j = (state: string, reason = 'None') => ({ jobId: '1_0', state, reason });
    expect(labState(j('PENDING', 'Dependency'), { started: false, finished: null }).status).toBe('queued');
    expect(labState(j('PENDING', 'DependencyNeverSatisfied'), { started: false, finished: null }).note).toMatch(/resubmit/);
    expect(labState(j('RUNNING'), { started: true, finished: null }).status).toBe('running');
    expect(labState(j('CANCELLED'), { started: true, finished: null }).status).toBe('failed');
    expect(labState(j('CANCELLED+'), { started: false, finished: null }).status).toBe('cancelled');
    expect(labState(j('PREEMPTED'), { started: true, finished: null }).status).toBe('interrupted');
    expect(labState(j('TIMEOUT'), { started: true, finished: null }).note).toMatch(/--time/);
    expect(labState(j('COMPLETED'), { started: true, finished: 'done' }).status).toBe('done');
    expect(labState(j('COMPLETED'), { started: true, finished: 'failed' }).status).toBe('failed');
    expect(labState(undefined, { started: true, finished: null }).status).toBe('failed');
  });
});
