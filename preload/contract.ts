// The one definition of the API the renderer sees. The Electron preload bridge, the WebSocket
// client of `toklab serve` and the host's handlers are all typed against it.
import type { BackendInfo, JobKind, JsonObject, MetricPoint } from '../engine/protocol';

export type { BackendInfo, JobKind, JsonObject, JsonValue, MetricPoint } from '../engine/protocol';

export type RunStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled' | 'interrupted';
export type RunKind =
  | 'selftest'
  | 'dataset'
  | 'feature-net'
  | 'tokenizer'
  | 'post-train'
  | 'generator'
  | 'eval'
  | 'sample'
  | 'tokens'
  | 'study';

export type EngineState = 'starting' | 'idle' | 'busy' | 'down';

export interface AppInfo {
  appVersion: string;
  home: string;
  schemaVersion: number;
  frontDoor: 'electron' | 'serve' | 'cli';
  engine: { state: EngineState; pid: number | null; info: BackendInfo | null; restarts: number };
}

export interface Progress {
  done: number;
  total: number;
  message?: string;
}

export interface RunSummary {
  id: number;
  kind: RunKind;
  jobKind: JobKind;
  name: string;
  status: RunStatus;
  parentId: number | null;
  sweepId: number | null;
  datasetId: number | null;
  seed: number | null;
  backend: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  error: string | null;
  tags: string[];
  progress: Progress | null;
}

export interface MetricSeries {
  name: string;
  steps: number[];
  values: (number | null)[];
}

export interface Score {
  id: number;
  runId: number;
  metric: string;
  value: number;
  provenance: JsonObject;
  createdAt: string;
}

export interface Artifact {
  id: number;
  runId: number;
  kind: string;
  /** Relative to the lab home; load through `artifactUrl`. */
  path: string;
  meta: JsonObject;
  createdAt: string;
}

export interface RunDetail extends RunSummary {
  config: JsonObject;
  result: JsonObject | null;
  notes: string;
  metrics: MetricSeries[];
  scores: Score[];
  artifacts: Artifact[];
}

export interface Dataset {
  id: number;
  name: string;
  kind: string;
  source: string;
  resolution: number;
  channels: number;
  numClasses: number;
  trainN: number;
  valN: number;
  runId: number | null;
  meta: JsonObject;
  createdAt: string;
}

export interface RunQuery {
  kind?: RunKind;
  status?: RunStatus;
  tag?: string;
  limit?: number;
}

export interface StartJobRequest {
  kind: JobKind;
  /** Shown in the run list; defaults to the kind and the time. */
  name?: string;
  spec: JsonObject;
  parentId?: number;
}

/** A score with the run it belongs to, for comparison tables and charts. */
export interface ScoreRow extends Score {
  runName: string;
  runKind: RunKind;
  /** The run's parent: the tokenizer of an eval run, the generator of a gFID run, … */
  parentId: number | null;
  tags: string[];
}

export interface ScoreQuery {
  metric?: string;
  /** e.g. 'eval/' for every tokenizer-evaluation score. */
  metricPrefix?: string;
  runIds?: number[];
  parentIds?: number[];
  limit?: number;
}

/** A pFID sweep: tokenizers × α × δ, expanded into one evaluation job per tokenizer. */
export interface SweepSpec {
  name?: string;
  tokenizers: number[];
  alphas: number[];
  deltas: number[];
  /** δ given as a share of K ('share') or as a count of codes ('abs'). */
  deltaMode: 'abs' | 'share';
  /** Held-out images per evaluation (0 = the whole validation split). */
  n?: number;
  seed?: number;
}

export interface Sweep {
  id: number;
  name: string;
  spec: JsonObject;
  status: 'running' | 'done' | 'partial';
  createdAt: string;
  runs: RunSummary[];
  /** Over all runs of the sweep, from their progress. */
  progress: { done: number; total: number; etaSeconds: number | null };
}

/**
 * Which scores to pair per tokenizer, e.g. x = summary pFID, y = gFID at CFG 1.5 of raster
 * generators. Per tokenizer the host takes the score at the chosen protocol (METHOD §3, §6: the
 * fields that define how a number was computed); everything else is listed in `excluded`.
 */
export interface CorrelationRequest {
  x: string;
  y: string;
  /** CFG scale of a gen/* side (0 = without CFG); required when x or y is a generation metric. */
  cfgScale?: number;
  /** Generator architecture of a gen/* side; required when x or y is a generation metric (raster and RAR are never mixed). */
  arch?: 'raster' | 'rar';
  /** Only these tokenizer (or post-train) runs; default every finished one in the lab home. */
  runIds?: number[];
  /** Only scores produced by these runs (a study passes its own eval and eval-generator runs). */
  scoreRunIds?: number[];
  /** Protocol key of the x / y scores (from `CorrelationResult.protocols`); default the one shared by the most tokenizers (ties: newest). */
  xProtocol?: string;
  yProtocol?: string;
  resamples?: number;
  seed?: number;
}

export interface CorrelationCoefficient {
  method: 'pearson' | 'spearman' | 'kendall';
  r: number;
  /** null when not shown; `ciNote` says why (bootstrap off, collapsed to a point, …). */
  ci: [number, number] | null;
  ciNote: string | null;
  level: number;
  resamples: number;
  loo: number[];
  looDelta: number[];
}

/** One protocol that some tokenizers' scores of a metric share. */
export interface CorrelationProtocol {
  key: string;
  /** e.g. "extractor fx1 · val split · N = 400 · seed 0 · α = {0.5, 0.9} · …". */
  description: string;
  protocol: JsonObject;
  /** Tokenizers (among the requested ones) with a score at this protocol. */
  tokenizers: number;
  /** Newest score id at this protocol (the tie-break). */
  newestScoreId: number;
}

export interface CorrelationSide {
  metric: string;
  key: string;
  description: string;
  /** 'requested': the request named it; 'majority': shared by the most tokenizers (ties: newest). */
  chosen: 'requested' | 'majority';
}

export interface CorrelationExclusion {
  /** The tokenizer concerned, when known. */
  tokenizerId: number | null;
  /** The run the reason is about: the score's run, or the tokenizer run itself. */
  runId: number | null;
  side: 'x' | 'y' | null;
  /** Names the mismatch, e.g. "run 14: eval/pfid_mean at N = 200, the chosen protocol has N = 400". */
  reason: string;
}

export interface CorrelationResult {
  request: CorrelationRequest;
  points: { tokenizerId: number; tokenizerName: string; x: number; y: number; xRunId: number; yRunId: number }[];
  /** The runs behind each point: tokenizer, the run of its x score, the run of its y score. */
  used: { tokenizerId: number; xRunId: number; yRunId: number }[];
  extractorId: string;
  /** The extractor's test accuracy (recorded in the scores' provenance), null for old scores. */
  extractorAccuracy: number | null;
  coefficients: CorrelationCoefficient[];
  /** The protocols on offer for each side (after the run, arch and CFG filters), most tokenizers first. */
  protocols: { x: CorrelationProtocol[]; y: CorrelationProtocol[] };
  /** The protocol used for each side and how it was picked. */
  chosen: { x: CorrelationSide; y: CorrelationSide };
  /** Every tokenizer or score left out, with the reason. */
  excluded: CorrelationExclusion[];
  /** Printed with the numbers: too few tokenizers, a protocol picked by majority over others, … */
  warnings: string[];
}

export type LabEvent =
  | { type: 'run'; run: RunSummary }
  | { type: 'metrics'; runId: number; points: MetricPoint[] }
  | { type: 'progress'; runId: number; progress: Progress }
  | { type: 'artifact'; artifact: Artifact }
  | { type: 'score'; score: Score }
  | { type: 'dataset'; dataset: Dataset }
  | { type: 'sweep'; sweepId: number }
  | { type: 'engine'; engine: AppInfo['engine'] }
  | { type: 'log'; runId: number | null; level: 'info' | 'warn' | 'error'; message: string };

/** Every method the renderer may call. Arguments are validated in the host (main/host/validate.ts). */
export interface LabApi {
  appInfo(): Promise<AppInfo>;
  listRuns(query: RunQuery): Promise<RunSummary[]>;
  getRun(id: number): Promise<RunDetail>;
  startJob(request: StartJobRequest): Promise<RunSummary>;
  cancelRun(id: number): Promise<RunSummary>;
  resumeRun(id: number): Promise<RunSummary>;
  setRunTags(id: number, tags: string[]): Promise<RunSummary>;
  setRunNotes(id: number, notes: string): Promise<void>;
  listDatasets(): Promise<Dataset[]>;
  getDataset(id: number): Promise<Dataset>;
  /** A native folder picker where there is one (Electron); null in a browser. */
  pickFolder(): Promise<string | null>;
  listScores(query: ScoreQuery): Promise<ScoreRow[]>;
  createSweep(spec: SweepSpec): Promise<Sweep>;
  listSweeps(): Promise<Sweep[]>;
  /** Refused when the scores come from different feature extractors. */
  correlate(request: CorrelationRequest): Promise<CorrelationResult>;
  /** Saves a PNG (data URL) or a CSV/JSON/TeX text under <home>/exports/ and returns its path. */
  exportFile(name: string, content: string): Promise<string>;
}

export type LabMethod = keyof LabApi;

/** The method names, checked against LabApi both ways at compile time. */
export const LAB_METHODS = [
  'appInfo',
  'listRuns',
  'getRun',
  'startJob',
  'cancelRun',
  'resumeRun',
  'setRunTags',
  'setRunNotes',
  'listDatasets',
  'getDataset',
  'pickFolder',
  'listScores',
  'createSweep',
  'listSweeps',
  'correlate',
  'exportFile',
] as const satisfies readonly LabMethod[];

type Missing = Exclude<LabMethod, (typeof LAB_METHODS)[number]>;
export const METHODS_COMPLETE: Missing extends never ? true : Missing = true;

/** What the renderer gets on `window.lab` (Electron) or from the WebSocket client (browser). */
export interface LabBridge extends LabApi {
  onEvent(listener: (event: LabEvent) => void): () => void;
  artifactUrl(path: string): string;
}

/** IPC channel for a method, `domain:verb` style kept in one place. */
export const channelFor = (m: LabMethod): string => `lab:${m}`;
export const EVENT_CHANNEL = 'lab:event';

/** WebSocket frames of `toklab serve`. */
export type WsClientFrame = { id: number; method: LabMethod; params: unknown[] };
export type WsServerFrame =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: string }
  | { event: LabEvent };
