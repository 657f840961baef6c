// The one definition of the API the renderer sees. The Electron preload bridge, the WebSocket
// client of `toklab serve` and the host's handlers are all typed against it.
import type { BackendInfo, JobKind, JsonObject, JsonValue, MetricPoint } from '../engine/protocol';
import type { ExportFigure } from '../figures/types';

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
  | 'study'
  | 'external-tokenizer'
  | 'extractor';

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
  /** Seconds since this attempt started (the host's clock). */
  elapsedSeconds?: number;
  /** Units of `done` per second over this attempt (steps/s for training, images/s for evaluation). */
  rate?: number;
  /** Seconds left at that rate; absent until the rate is known. */
  etaSeconds?: number;
  /** The step a resumed attempt continues from (0 = it restarted, no checkpoint existed). */
  resumedFrom?: number;
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
  /** Case-insensitive substring of a tag ("quick" finds "study:quick-shapes"). */
  tag?: string;
  /** Case-insensitive free text over name, tags, notes and config values. */
  search?: string;
  datasetId?: number;
  parentId?: number;
  limit?: number;
}

/** One score in a tracker row: the newest of its metric over the run and its evaluation children. */
export interface RowScore {
  value: number;
  scoreId: number;
  /** The run that produced it (the run itself or an eval/sample child). */
  runId: number;
  /** protocolKey (engine/metrics/provenance): equal keys = computed the same way. */
  protocolKey: string;
  /** e.g. "extractor fx1 (acc 0.99) · val split · N = 400 · seed 0". */
  protocol: string;
}

/** A row of the Runs tracker: the summary plus what its columns show. */
export interface RunRow extends RunSummary {
  notes: string;
  /** The job config flattened to dot keys ("model.codebookSize"); arrays as JSON text. */
  config: Record<string, JsonValue>;
  /** Per score metric. */
  scores: Record<string, RowScore>;
  /** The last value of each logged metric series (train/loss, …). */
  last: Record<string, number>;
  /** Runs that depend on this one directly (children, queued jobs waiting for it, runs on a dataset it built); `runDependents` gives the whole cascade. */
  dependents: number;
}

export interface ScoreComparison {
  metric: string;
  /** One value per compared run (same order as `runs`), null where the run has none at this protocol. */
  values: (number | null)[];
  /** value − the first run's value, at the same protocol only. */
  deltas: (number | null)[];
  protocolKey: string;
  protocol: string;
}

export interface RunComparison {
  runs: RunRow[];
  /** Config keys whose values differ between the runs (absent = null); equal keys are left out. */
  configDiff: { key: string; values: (JsonValue | null)[] }[];
  /** How many config keys are equal in every run. */
  sameKeys: number;
  /** Scores at a protocol shared by at least two runs. */
  scores: ScoreComparison[];
  /** Metrics the runs have at different protocols, with the difference named. */
  mismatches: { metric: string; reason: string }[];
  /** Image artifacts per run (reconstruction grids, galleries) with their seeds, for side-by-side views. */
  images: { runId: number; artifacts: Artifact[] }[];
}

export interface DeleteRequest {
  /** Also delete every run that depends on it (children first); without it, a run with dependents is refused. */
  cascade?: boolean;
}

export interface DeleteResult {
  /** Every deleted run id (dependents first). */
  deleted: number[];
  /** Run folders removed from disk. */
  folders: string[];
}

export interface ImportReport {
  source: string;
  /** The source lab's identity: what this home records as the origin of every row it took from it. */
  sourceLab: string;
  datasets: { added: number; existing: number };
  runs: { added: number; existing: number };
  sweeps: { added: number; existing: number };
  metrics: number;
  scores: number;
  artifacts: number;
  /** Files copied into this home. */
  files: number;
  /** Source run id → run id in this home, for every run of the source that is here now (added or already here); skipped runs are absent. */
  runIds: Record<string, number>;
  /** Source dataset id → dataset id in this home. */
  datasetIds: Record<string, number>;
  /** Datasets added under another name: a different dataset here already had theirs. */
  renamed: { sourceId: number; from: string; to: string }[];
  /** Runs left in the source, with the reason (not finished yet, or waiting for a run that is not). A later import takes them. */
  skipped: { sourceId: number; name: string; kind: RunKind; status: RunStatus; reason: string }[];
  /** pid of the live toklab that holds the source's queue (its running runs were skipped), or null. */
  sourceBusy: number | null;
  /** Things imported but worth knowing (an artifact file missing in the source, a reference left as it was, …). */
  warnings: string[];
}

/** One task of a `toklab slurm` submission, as a run state (docs/SCALE-OUT.md). */
export interface ClusterTask {
  id: string;
  stage: string;
  steps: string[];
  status: RunStatus;
  /** Why (e.g. "cancelled while running (scancel?): resubmit it"), or Slurm's pending reason. */
  note: string;
  jobId: string | null;
  attempts: number;
  /** The running step's progress, read from the task's own lab home. */
  progress: { runId: number; name: string; progress: Progress } | null;
  /** The exact command the task runs (to re-run it by hand). */
  command: string;
}

export interface ClusterSubmission {
  root: string;
  what: string;
  createdAt: string;
  tasks: ClusterTask[];
  /** Set when Slurm could not be asked (no squeue here, …): the tasks then show their own records only. */
  error: string | null;
}

export type FigureFormat = 'png' | 'svg' | 'pdf';

/** Paper presets: single column 3.25 in, double column 6.75 in, with font sizes to match. */
export type FigurePreset = 'single' | 'double';

export interface FigureExportRequest {
  /** File name stem (letters, digits, . _ -); each format adds its extension. */
  name: string;
  /** A chart's definition (figures/), or a gallery of a run's PNG grids (PNG only). */
  figure: ExportFigure;
  formats: FigureFormat[];
  preset: FigurePreset;
  /** PNG resolution (default 300): the PNG is the preset's width in inches × dpi pixels wide. */
  dpi?: number;
  /** What the figure shows and how it was computed (runs, N, extractor, protocol): written to `<name>.json`, the PNG's text chunks and the PDF's Info. */
  provenance: JsonObject;
}

export type TableFormat = 'csv' | 'tex' | 'json';

export interface TableExportRequest {
  /** File name stem (letters, digits, . _ -). */
  name: string;
  /** Unique column names. */
  columns: string[];
  /** One value per column; numbers are written at full precision in CSV and JSON. */
  rows: (string | number | null)[][];
  formats: TableFormat[];
  /** LaTeX: booktabs rules (\\toprule …) instead of \\hline. */
  booktabs?: boolean;
  /** Written to `<name>.provenance.json`, never into the CSV. */
  provenance: JsonObject;
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
  /** Dataset to evaluate on (id or name): required for external (ONNX) tokenizers, else each tokenizer's own. */
  dataset?: number | string;
  /** An 'extractor' run (an ONNX feature extractor); default: the dataset's lab feature network. */
  extractor?: number;
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
  | { type: 'deleted'; runId: number }
  | { type: 'metrics'; runId: number; points: MetricPoint[] }
  | { type: 'progress'; runId: number; progress: Progress }
  | { type: 'artifact'; artifact: Artifact }
  | { type: 'score'; score: Score }
  | { type: 'dataset'; dataset: Dataset }
  | { type: 'sweep'; sweepId: number }
  | { type: 'engine'; engine: AppInfo['engine'] }
  | { type: 'log'; runId: number | null; level: 'info' | 'warn' | 'error'; message: string }
  /** A native menu item or its shortcut (Electron): go to a page, or export the page's chart. */
  | { type: 'menu'; action: MenuAction };

/** The app's pages, in menu and navigation order. */
export const PAGES = ['Datasets', 'Tokenizers', 'Sweeps', 'Generate', 'Analysis', 'Runs'] as const;
export type PageName = (typeof PAGES)[number];

export type MenuAction = { kind: 'page'; page: PageName } | { kind: 'export' };

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
  /** The Runs tracker's rows (filters as in listRuns). */
  listRunRows(query: RunQuery): Promise<RunRow[]>;
  /** Two or more runs side by side: config diff, score deltas at one protocol, images. */
  compareRuns(ids: number[]): Promise<RunComparison>;
  /** The runs that would go with a cascading delete (dependents first), for the confirmation prompt. */
  runDependents(id: number): Promise<RunSummary[]>;
  /** Deletes a run (its rows and its folder); refused while it runs, or when others depend on it unless `cascade`. */
  deleteRun(id: number, request: DeleteRequest): Promise<DeleteResult>;
  /** The lab home's Slurm submissions (`toklab slurm submit`) with each task's state and progress. */
  listClusterTasks(): Promise<ClusterSubmission[]>;
  /** Merges another lab home into this one: no id clashes, parent links kept, idempotent. */
  importLab(home: string): Promise<ImportReport>;
  /** Renders a figure definition headlessly (the same Vega renderer as `toklab export`) under <home>/exports/; returns the paths written. */
  exportFigure(request: FigureExportRequest): Promise<string[]>;
  /** Writes a table as CSV / LaTeX / JSON under <home>/exports/ with a provenance sidecar; returns the paths written. */
  exportTable(request: TableExportRequest): Promise<string[]>;
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
  'listRunRows',
  'compareRuns',
  'runDependents',
  'deleteRun',
  'importLab',
  'listClusterTasks',
  'exportFigure',
  'exportTable',
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
