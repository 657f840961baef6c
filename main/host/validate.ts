// One argument schema per LabApi method: the host checks everything a front door hands it
// (IPC from the renderer, WebSocket frames) before any handler runs.
import type { CorrelationRequest, JobKind, LabApi, LabMethod, RunKind, RunQuery, RunStatus, ScoreQuery, StartJobRequest, SweepSpec } from '../../preload/contract';
import { LAB_METHODS } from '../../preload/contract';
import { figureExportRequest, tableExportRequest } from './exports';

export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

const JOB_KINDS: readonly JobKind[] = ['selftest', 'dataset-build', 'train-tokenizer', 'eval-tokenizer', 'extract-tokens', 'train-feature-net', 'train-generator', 'sample', 'eval-generator', 'posttrain', 'import-tokenizer', 'add-extractor'];
const RUN_KINDS: readonly RunKind[] = ['selftest', 'dataset', 'feature-net', 'tokenizer', 'post-train', 'generator', 'eval', 'sample', 'tokens', 'study', 'external-tokenizer', 'extractor'];
const RUN_STATUSES: readonly RunStatus[] = ['queued', 'running', 'done', 'failed', 'cancelled', 'interrupted'];

function id(v: unknown, what = 'id'): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new InputError(`${what} must be a positive whole number, got ${JSON.stringify(v)}`);
  return v;
}

function plainObject(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new InputError(`${what} must be an object`);
  return v as Record<string, unknown>;
}

function oneOf<T extends string>(v: unknown, allowed: readonly T[], what: string): T {
  if (typeof v !== 'string' || !allowed.includes(v as T)) throw new InputError(`${what} must be one of ${allowed.join(', ')}; got ${JSON.stringify(v)}`);
  return v as T;
}

function runQuery(v: unknown): RunQuery {
  const o = plainObject(v ?? {}, 'query');
  const q: RunQuery = {};
  if (o.kind !== undefined) q.kind = oneOf(o.kind, RUN_KINDS, 'query.kind');
  if (o.status !== undefined) q.status = oneOf(o.status, RUN_STATUSES, 'query.status');
  if (o.tag !== undefined) {
    if (typeof o.tag !== 'string') throw new InputError('query.tag must be a string');
    q.tag = o.tag;
  }
  if (o.search !== undefined) q.search = text(o.search, 200, 'query.search');
  if (o.datasetId !== undefined) q.datasetId = id(o.datasetId, 'query.datasetId');
  if (o.parentId !== undefined) q.parentId = id(o.parentId, 'query.parentId');
  if (o.limit !== undefined) {
    if (typeof o.limit !== 'number' || !Number.isInteger(o.limit) || o.limit < 1 || o.limit > 10_000) throw new InputError('query.limit must be 1..10000');
    q.limit = o.limit;
  }
  return q;
}

function startRequest(v: unknown): StartJobRequest {
  const o = plainObject(v, 'request');
  const req: StartJobRequest = { kind: oneOf(o.kind, JOB_KINDS, 'kind'), spec: plainObject(o.spec === undefined ? {} : o.spec, 'spec (an object of job settings; omit it for the defaults)') as StartJobRequest['spec'] };
  if (o.name !== undefined) {
    if (typeof o.name !== 'string' || o.name.length > 200) throw new InputError('name must be a string of at most 200 characters');
    req.name = o.name;
  }
  if (o.parentId !== undefined) req.parentId = id(o.parentId, 'parentId');
  JSON.stringify(req.spec); // refuses cycles and BigInts early
  return req;
}

function tags(v: unknown): string[] {
  if (!Array.isArray(v) || v.length > 50 || v.some((t) => typeof t !== 'string' || t.length > 64)) throw new InputError('tags must be a list of at most 50 strings of at most 64 characters');
  return v as string[];
}

function text(v: unknown, max: number, what: string): string {
  if (typeof v !== 'string' || v.length > max) throw new InputError(`${what} must be a string of at most ${max} characters`);
  return v;
}

function idList(v: unknown, what: string): number[] {
  if (!Array.isArray(v) || v.length > 1000) throw new InputError(`${what} must be a list of run ids`);
  return v.map((x) => id(x, what));
}

function numbers(v: unknown, what: string): number[] {
  if (!Array.isArray(v) || v.length > 100 || v.some((x) => typeof x !== 'number' || !Number.isFinite(x))) throw new InputError(`${what} must be a list of numbers`);
  return v as number[];
}

function scoreQuery(v: unknown): ScoreQuery {
  const o = plainObject(v ?? {}, 'query');
  const q: ScoreQuery = {};
  if (o.metric !== undefined) q.metric = text(o.metric, 100, 'query.metric');
  if (o.metricPrefix !== undefined) q.metricPrefix = text(o.metricPrefix, 100, 'query.metricPrefix');
  if (o.runIds !== undefined) q.runIds = idList(o.runIds, 'query.runIds');
  if (o.parentIds !== undefined) q.parentIds = idList(o.parentIds, 'query.parentIds');
  if (o.limit !== undefined) q.limit = id(o.limit, 'query.limit');
  return q;
}

function sweepSpec(v: unknown): SweepSpec {
  const o = plainObject(v, 'sweep');
  const s: SweepSpec = {
    tokenizers: idList(o.tokenizers, 'tokenizers'),
    alphas: numbers(o.alphas, 'alphas'),
    deltas: numbers(o.deltas, 'deltas'),
    deltaMode: oneOf(o.deltaMode, ['abs', 'share'] as const, 'deltaMode'),
  };
  if (o.name !== undefined) s.name = text(o.name, 200, 'name');
  if (o.n !== undefined) s.n = typeof o.n === 'number' && Number.isInteger(o.n) && o.n >= 0 ? o.n : (() => { throw new InputError('n must be a whole number ≥ 0'); })();
  if (o.seed !== undefined) s.seed = typeof o.seed === 'number' && Number.isInteger(o.seed) && o.seed >= 0 ? o.seed : (() => { throw new InputError('seed must be a whole number ≥ 0'); })();
  if (o.dataset !== undefined && o.dataset !== null) s.dataset = typeof o.dataset === 'number' ? id(o.dataset, 'dataset') : text(o.dataset, 200, 'dataset');
  if (o.extractor !== undefined && o.extractor !== null) s.extractor = id(o.extractor, 'extractor');
  return s;
}

function correlationRequest(v: unknown): CorrelationRequest {
  const o = plainObject(v, 'request');
  const r: CorrelationRequest = { x: text(o.x, 100, 'x'), y: text(o.y, 100, 'y') };
  if (o.cfgScale !== undefined) r.cfgScale = numbers([o.cfgScale], 'cfgScale')[0];
  if (o.arch !== undefined) r.arch = oneOf(o.arch, ['raster', 'rar'] as const, 'arch');
  if (o.runIds !== undefined) r.runIds = idList(o.runIds, 'runIds');
  if (o.scoreRunIds !== undefined) r.scoreRunIds = idList(o.scoreRunIds, 'scoreRunIds');
  if (o.xProtocol !== undefined) r.xProtocol = text(o.xProtocol, 4000, 'xProtocol');
  if (o.yProtocol !== undefined) r.yProtocol = text(o.yProtocol, 4000, 'yProtocol');
  if (o.resamples !== undefined) r.resamples = Math.min(20_000, id(o.resamples, 'resamples'));
  if (o.seed !== undefined) r.seed = numbers([o.seed], 'seed')[0];
  return r;
}

type Validators = { [M in LabMethod]: (args: unknown[]) => Parameters<LabApi[M]> };

const VALIDATORS: Validators = {
  appInfo: () => [],
  listRuns: (a) => [runQuery(a[0])],
  getRun: (a) => [id(a[0])],
  startJob: (a) => [startRequest(a[0])],
  cancelRun: (a) => [id(a[0])],
  resumeRun: (a) => [id(a[0])],
  setRunTags: (a) => [id(a[0]), tags(a[1])],
  setRunNotes: (a) => [id(a[0]), text(a[1], 20_000, 'notes')],
  listDatasets: () => [],
  getDataset: (a) => [id(a[0])],
  pickFolder: () => [],
  listScores: (a) => [scoreQuery(a[0])],
  createSweep: (a) => [sweepSpec(a[0])],
  listSweeps: () => [],
  correlate: (a) => [correlationRequest(a[0])],
  exportFile: (a) => [text(a[0], 200, 'name'), text(a[1], 50_000_000, 'content')],
  listRunRows: (a) => [runQuery(a[0])],
  compareRuns: (a) => {
    const ids = idList(a[0], 'ids');
    if (ids.length < 2 || ids.length > 20) throw new InputError('compare 2 to 20 runs');
    return [ids];
  },
  runDependents: (a) => [id(a[0])],
  deleteRun: (a) => {
    const o = plainObject(a[1] ?? {}, 'request');
    if (o.cascade !== undefined && typeof o.cascade !== 'boolean') throw new InputError('request.cascade must be true or false');
    return [id(a[0]), { cascade: o.cascade === true }];
  },
  listClusterTasks: () => [],
  importLab: (a) => [text(a[0], 4096, 'home (the other lab home folder)')],
  exportFigure: (a) => [figureExportRequest(a[0])],
  exportTable: (a) => [tableExportRequest(a[0])],
};

export function isLabMethod(m: unknown): m is LabMethod {
  return typeof m === 'string' && (LAB_METHODS as readonly string[]).includes(m);
}

/** Validates and dispatches one call; the only way a front door reaches the lab. */
export async function dispatch(api: LabApi, method: unknown, args: unknown): Promise<unknown> {
  if (!isLabMethod(method)) throw new InputError(`unknown method ${JSON.stringify(method)}`);
  if (!Array.isArray(args)) throw new InputError('params must be a list');
  const parsed = VALIDATORS[method](args);
  return (api[method] as (...p: unknown[]) => Promise<unknown>)(...parsed);
}
