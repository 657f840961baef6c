// What every FID-like number is stored with (METHOD.md §3, §6), and the guard that keeps numbers
// from different feature extractors from being compared or correlated.

export interface CfgProvenance {
  scale: number;
  schedule: 'constant' | 'cosine-power' | 'none';
  power?: number;
}

export interface Provenance {
  /** Feature extractor id (hash of weights + architecture). */
  extractorId: string;
  /** Samples per side. */
  n: number;
  seed: number;
  split: string;
  /** Latent perturbation (pFID only). */
  alpha?: number;
  deltaAbs?: number;
  deltaShare?: number;
  includeSelf?: boolean;
  selection?: 'bernoulli' | 'exact';
  anchor?: 'z' | 'code';
  /** Generation (gFID only). */
  cfg?: CfgProvenance;
  temperature?: number;
  topK?: number;
  topP?: number;
}

/** Throws unless every provenance names the same feature extractor. */
export function assertComparable(list: readonly Pick<Provenance, 'extractorId'>[]): void {
  if (list.length === 0) return;
  const first = list[0].extractorId;
  for (const p of list) {
    if (p.extractorId !== first) {
      throw new Error(
        `cannot compare scores from different feature extractors (ids ${first} and ${p.extractorId}): recompute both with the same extractor`,
      );
    }
  }
}

// ── Protocols ────────────────────────────────────────────────────────────────────────────────────
// A protocol is exactly what defines how a number was computed (extractor, split, N, seed, the pFID
// grid, the generation settings), and nothing that identifies the run it was computed on
// (tokenizerRun, generatorRun, decoderRun, dataset paths, flip rates, kidStd, extractorAccuracy, …).
// Two numbers of one metric are comparable across tokenizers only when their protocols are equal.
// A field an older row does not record is null ("unknown"), never guessed.

type ProtocolValue = string | number | boolean | null | number[] | ProtocolCfg;

export interface ProtocolCfg {
  scale: number | null;
  schedule: string | null;
  /** Only meaningful for the cosine-power schedule; null otherwise. */
  power: number | null;
}

export type Protocol = Record<string, ProtocolValue>;

/** eval/pfid_mean: the whole grid; eval/pfid, eval/pkid: one cell; gen/*: the generation settings. */
export type ProtocolFamily = 'pfid-grid' | 'pfid-cell' | 'generation' | 'base';

export function protocolFamily(metric: string): ProtocolFamily {
  if (metric === 'eval/pfid_mean') return 'pfid-grid';
  if (metric === 'eval/pfid' || metric === 'eval/pkid') return 'pfid-cell';
  if (metric.startsWith('gen/')) return 'generation';
  return 'base';
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const bool = (v: unknown): boolean | null => (typeof v === 'boolean' ? v : null);
/** A grid axis, sorted: the grid mean does not depend on the order its values were listed in. */
const axis = (v: unknown): number[] | null =>
  Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number' && Number.isFinite(x)) ? [...(v as number[])].sort((a, b) => a - b) : null;

function cfgOf(v: unknown): ProtocolCfg | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const c = v as Record<string, unknown>;
  const schedule = str(c.schedule);
  return { scale: num(c.scale), schedule, power: schedule === 'cosine-power' ? num(c.power) : null };
}

/** The canonical protocol of one score: a plain object with a fixed set of fields per metric family, in a fixed order. */
export function protocolOf(metric: string, provenance: Record<string, unknown>): Protocol {
  const p = provenance;
  const out: Protocol = { extractorId: str(p.extractorId), split: str(p.split), n: num(p.n), seed: num(p.seed) };
  const family = protocolFamily(metric);
  if (family === 'pfid-grid' || family === 'pfid-cell') {
    // δ as the grid was given: a grid in shares of K (deltaMode 'share', as the study sweeps tokenizers
    // of different K) is compared on the shares, one in codes ('abs') on the codes. Without a
    // recorded mode (older rows; the host fills it from the eval run's config) the codes decide.
    const mode = str(p.deltaMode);
    out.deltaMode = mode;
    const share = mode === 'share';
    if (family === 'pfid-grid') {
      out.alphas = axis(p.alphas);
      if (share) out.deltasShare = axis(p.deltasShare);
      else out.deltasAbs = axis(p.deltasAbs);
    } else {
      out.alpha = num(p.alpha);
      if (share) out.deltaShare = num(p.deltaShare);
      else out.deltaAbs = num(p.deltaAbs);
    }
    out.includeSelf = bool(p.includeSelf);
    out.selection = str(p.selection);
    out.anchor = str(p.anchor);
  } else if (family === 'generation') {
    out.arch = str(p.arch);
    out.cfg = cfgOf(p.cfg);
    out.temperature = num(p.temperature);
    out.topK = num(p.topK);
    out.topP = num(p.topP);
    out.nPerClass = num(p.nPerClass);
  }
  return out;
}

/** A stable string for a protocol: equal exactly when the protocols are equal. */
export function protocolKey(protocol: Protocol): string;
export function protocolKey(metric: string, provenance: Record<string, unknown>): string;
export function protocolKey(a: Protocol | string, provenance?: Record<string, unknown>): string {
  const p = typeof a === 'string' ? protocolOf(a, provenance ?? {}) : a;
  // protocolOf fixes the field order (and the cfg object's), so JSON.stringify is canonical; sort anyway
  // so a protocol built by hand in another order gets the same key.
  const sorted = (v: ProtocolValue): unknown =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, (v as unknown as Record<string, ProtocolValue>)[k]])) : v;
  return JSON.stringify(Object.keys(p).sort().map((k) => [k, sorted(p[k])]));
}

export interface ProtocolDifference {
  field: string;
  a: ProtocolValue | undefined;
  b: ProtocolValue | undefined;
}

/** The fields in which two protocols differ, with both values (cfg compared as a whole). */
export function protocolDiff(a: Protocol, b: Protocol): ProtocolDifference[] {
  const fields = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  return fields.filter((f) => JSON.stringify(a[f] ?? null) !== JSON.stringify(b[f] ?? null) || (f in a) !== (f in b)).map((field) => ({ field, a: a[field], b: b[field] }));
}

const LABELS: Record<string, string> = {
  extractorId: 'extractor',
  split: 'split',
  n: 'N',
  seed: 'seed',
  alphas: 'α',
  alpha: 'α',
  deltaMode: 'δ given as',
  deltasAbs: 'δ (codes)',
  deltaAbs: 'δ (codes)',
  deltasShare: 'δ (share of K)',
  deltaShare: 'δ (share of K)',
  includeSelf: 'include-self',
  selection: 'selection',
  anchor: 'anchor',
  arch: 'arch',
  cfg: 'CFG',
  temperature: 'temperature',
  topK: 'top-k',
  topP: 'top-p',
  nPerClass: 'samples per class',
};

function valueText(field: string, v: ProtocolValue | undefined): string {
  if (v === null || v === undefined) return 'unknown';
  if (Array.isArray(v)) return `{${v.join(', ')}}`;
  if (typeof v === 'object') {
    if (v.scale === 0) return '0 (off)';
    const sched = v.schedule === 'cosine-power' ? `cosine-power p ${v.power ?? 'unknown'}` : (v.schedule ?? 'schedule unknown');
    return `${v.scale ?? 'unknown'} ${sched}`;
  }
  if (field === 'includeSelf') return v ? 'yes' : 'no';
  if (field === 'deltaMode') return v === 'share' ? 'share of K' : 'codes';
  return String(v);
}

/** "N = 200", "α = {0.5, 0.9}", "CFG = 1.5 constant": one field of a protocol, for messages. */
export function describeField(field: string, value: ProtocolValue | undefined): string {
  return `${LABELS[field] ?? field} = ${valueText(field, value)}`;
}

/** Short human text of a protocol, e.g. "extractor fx1 · val · N = 400 · seed 0 · α {0.5, 0.9} · …". */
export function describeProtocol(p: Protocol): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(p)) {
    if (k === 'seed') parts.push(`seed ${valueText(k, v)}`);
    else if (k === 'split') parts.push(`${valueText(k, v)} split`);
    else if (k === 'extractorId') parts.push(`extractor ${valueText(k, v)}`);
    else if (k === 'arch') parts.push(`${valueText(k, v)} generator`);
    else parts.push(describeField(k, v));
  }
  return parts.join(' · ');
}
