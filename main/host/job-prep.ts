// Host-side knowledge of each job kind: which validator refuses a bad config before anything is
// queued, which host fields (dataset paths, output folders) it gets, and what happens on success.
import type { Dataset, JobKind, JsonObject, RunKind, RunSummary, StartJobRequest } from '../../preload/contract';
import { validateSelftestSpec } from '../../engine/specs/selftest';
import type { Repo } from './store/repo';

export interface PrepEnv {
  repo: Repo;
  home: string;
}

export interface PreparedJob {
  runKind: RunKind;
  spec: JsonObject;
  name: string;
  seed: number | null;
  datasetId: number | null;
  parentId: number | null;
}

interface JobPrep {
  runKind: RunKind;
  /** Validates (throws SpecError) and returns the full spec the engine gets. */
  prepare(spec: unknown, env: PrepEnv, req: StartJobRequest): Omit<PreparedJob, 'runKind' | 'name'> & { name?: string };
  /** Called after the job succeeded, inside the host. */
  onDone?(run: RunSummary, result: JsonObject, env: PrepEnv): { dataset?: Dataset };
}

const asJson = (v: object): JsonObject => v as unknown as JsonObject;

const PREPS: Partial<Record<JobKind, JobPrep>> = {
  selftest: {
    runKind: 'selftest',
    prepare: (spec) => {
      const s = validateSelftestSpec(spec);
      return { spec: asJson(s), seed: s.seed, datasetId: null, parentId: null };
    },
  },
};

export function registerJobPrep(kind: JobKind, prep: JobPrep): void {
  PREPS[kind] = prep;
}

export function jobPrep(kind: JobKind): JobPrep {
  const p = PREPS[kind];
  if (!p) throw new Error(`"${kind}" jobs are not available in this version of toklab.`);
  return p;
}

export function prepareJob(req: StartJobRequest, env: PrepEnv): PreparedJob {
  const p = jobPrep(req.kind);
  const out = p.prepare(req.spec, env, req);
  const stamp = new Date().toISOString().replace('T', ' ').slice(0, 16);
  return { runKind: p.runKind, ...out, parentId: req.parentId ?? out.parentId, name: req.name ?? out.name ?? `${req.kind} ${stamp}` };
}

/** Looks a dataset up by id or name, with a message that says how to find the right one. */
export function resolveDataset(repo: Repo, ref: unknown): Dataset & { path: string } {
  if (typeof ref !== 'string' && typeof ref !== 'number')
    throw new Error('dataset: missing. Give a dataset id or name (see `toklab datasets list`).');
  const d = repo.findDataset(ref);
  if (!d) throw new Error(`dataset: there is no dataset "${ref}". Add one with \`toklab datasets add shapes\` or pick one from \`toklab datasets list\`.`);
  return d;
}
