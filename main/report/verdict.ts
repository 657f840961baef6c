// The study's quality gates, seed spread, LP effects and verdict, computed from numbers only (pure, no
// I/O), so the report states what its numbers support and a test can check each rule.

export interface Spread {
  mean: number;
  /** Sample standard deviation over seeds (0 with one seed). */
  sd: number;
  n: number;
  values: number[];
}

/** Mean ± sample SD of the finite values; null when there are none. */
export function spread(values: (number | null | undefined)[]): Spread | null {
  const v = values.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  if (v.length === 0) return null;
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const sd = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1)) : 0;
  return { mean, sd, n: v.length, values: v };
}

export interface GateThresholds {
  /** The feature network's test accuracy on the val split. */
  extractorAccuracy: number;
  /** Every tokenizer: lab-classifier accuracy on its clean reconstructions. */
  reconAccuracy: number;
  /** The best tokenizer of the zoo must reach this (the zoo as a whole reconstructs). */
  bestReconAccuracy: number;
  /** Every generator: lab-classifier accuracy of its samples at the best CFG setting. */
  sampleAccuracy: number;
}

export interface GateResult {
  subject: string;
  runId: number | null;
  measured: Record<string, number | null>;
  passed: boolean;
  /** Why it failed, naming the threshold ('' when passed). */
  reason: string;
}

export interface GateInputs {
  extractor: { runId: number | null; testAccuracy: number | null; selfTestPassed: boolean | null; selfTestReason: string };
  tokenizers: { label: string; runId: number; reconAcc: number | null; psnr: number | null }[];
  generators: { label: string; runId: number; sampleAcc: { cfg: number; value: number | null }[] }[];
}

export interface Gates {
  thresholds: GateThresholds;
  extractor: GateResult;
  bestRecon: GateResult;
  tokenizers: GateResult[];
  generators: GateResult[];
  /** Every gate passed: the numbers can carry a conclusion at this scale. */
  allPassed: boolean;
}

const f2 = (v: number | null): string => (v === null ? 'n/a' : v.toFixed(2));

export function evaluateGates(t: GateThresholds, g: GateInputs): Gates {
  const ex = g.extractor;
  const exReasons: string[] = [];
  if (ex.testAccuracy === null || ex.testAccuracy < t.extractorAccuracy) exReasons.push(`test accuracy ${f2(ex.testAccuracy)} is below ${t.extractorAccuracy.toFixed(2)}`);
  if (ex.selfTestPassed === false) exReasons.push(`metric self-test failed: ${ex.selfTestReason}`);
  if (ex.selfTestPassed === null) exReasons.push('metric self-test did not run');
  const extractor: GateResult = { subject: 'feature extractor', runId: ex.runId, measured: { testAccuracy: ex.testAccuracy }, passed: exReasons.length === 0, reason: exReasons.join('; ') };
  const tokenizers = g.tokenizers.map((k): GateResult => {
    const ok = k.reconAcc !== null && k.reconAcc >= t.reconAccuracy;
    return { subject: k.label, runId: k.runId, measured: { reconAcc: k.reconAcc, psnr: k.psnr }, passed: ok, reason: ok ? '' : `reconstruction class accuracy ${f2(k.reconAcc)} is below ${t.reconAccuracy.toFixed(2)}` };
  });
  const best = g.tokenizers.reduce<(typeof g.tokenizers)[number] | null>((b, k) => (k.reconAcc !== null && (b === null || (b.reconAcc ?? -1) < k.reconAcc) ? k : b), null);
  const bestOk = best !== null && (best.reconAcc ?? 0) >= t.bestReconAccuracy;
  const bestRecon: GateResult = {
    subject: `best tokenizer${best ? ` (${best.label})` : ''}`,
    runId: best?.runId ?? null,
    measured: { reconAcc: best?.reconAcc ?? null },
    passed: bestOk,
    reason: bestOk ? '' : `the best reconstruction class accuracy ${f2(best?.reconAcc ?? null)} is below ${t.bestReconAccuracy.toFixed(2)}`,
  };
  const generators = g.generators.map((gen): GateResult => {
    const vals = gen.sampleAcc.filter((s) => s.value !== null) as { cfg: number; value: number }[];
    const top = vals.reduce<{ cfg: number; value: number } | null>((b, s) => (b === null || s.value > b.value ? s : b), null);
    const ok = top !== null && top.value >= t.sampleAccuracy;
    const measured: Record<string, number | null> = {};
    for (const s of gen.sampleAcc) measured[`sampleAcc@cfg${s.cfg}`] = s.value;
    return { subject: gen.label, runId: gen.runId, measured, passed: ok, reason: ok ? '' : `sample class accuracy ${f2(top?.value ?? null)}${top ? ` (best, CFG ${top.cfg})` : ''} is below ${t.sampleAccuracy.toFixed(2)}` };
  });
  const allPassed = extractor.passed && bestRecon.passed && tokenizers.every((x) => x.passed) && generators.every((x) => x.passed);
  return { thresholds: t, extractor, bestRecon, tokenizers, generators, allPassed };
}

export interface LpEffect {
  pair: string;
  metric: string;
  base: Spread | null;
  lp: Spread | null;
  /** mean(LP) − mean(base). */
  delta: number | null;
  /** |delta| > sd(base) + sd(LP): the difference is larger than the seed noise (needs ≥ 2 seeds a side). */
  exceedsSpread: boolean | null;
}

export function lpEffect(pair: string, metric: string, base: (number | null)[], lp: (number | null)[]): LpEffect {
  const b = spread(base), l = spread(lp);
  const delta = b && l ? l.mean - b.mean : null;
  const exceedsSpread = b && l && b.n > 1 && l.n > 1 && delta !== null ? Math.abs(delta) > b.sd + l.sd : null;
  return { pair, metric, base: b, lp: l, delta, exceedsSpread };
}

export type ClaimStatus = 'supported' | 'contradicted' | 'inconclusive' | 'not tested';

export interface Claim {
  claim: string;
  status: ClaimStatus;
  why: string;
}

export interface CorrelationSummary {
  arch: string;
  cfg: number;
  /** Pearson r and its shown interval for each predictor, null when it could not be computed. */
  pfid: { r: number; ci: [number, number] | null; n: number } | null;
  rfid: { r: number; ci: [number, number] | null; n: number } | null;
}

export const MIN_TOKENIZERS = 6;

/**
 * METHOD §7's three claims, judged from the numbers. Weak models (a failed gate) make every claim
 * inconclusive: a verdict from models that do not work would be about the bugs, not the method.
 */
export function verdict(gates: Gates, corr: CorrelationSummary[], effects: LpEffect[], posttrain: { before: number; after: number }[] | null): Claim[] {
  const weak = gates.allPassed ? '' : `quality gates failed (${[gates.extractor, gates.bestRecon, ...gates.tokenizers, ...gates.generators].filter((g) => !g.passed).length} of them, see above): the models are too weak to conclude from`;
  const out: Claim[] = [];

  // 1. ρ(pFID, gFID) > ρ(rFID, gFID)
  const c1 = 'pFID correlates with gFID better than rFID does';
  const usable = corr.filter((c) => c.pfid && c.rfid);
  if (weak) out.push({ claim: c1, status: 'inconclusive', why: weak });
  else if (usable.length === 0) out.push({ claim: c1, status: 'inconclusive', why: 'no setting had both correlations' });
  else {
    const small = usable.filter((c) => (c.pfid?.n ?? 0) < MIN_TOKENIZERS);
    const wins = usable.filter((c) => c.pfid!.r > c.rfid!.r);
    // decisive: pFID's interval lies above rFID's point estimate (or below it, for a loss)
    const clearWins = usable.filter((c) => c.pfid!.ci !== null && c.pfid!.ci[0] > c.rfid!.r);
    const clearLosses = usable.filter((c) => c.pfid!.ci !== null && c.pfid!.ci[1] < c.rfid!.r);
    const detail = usable.map((c) => `${c.arch} CFG ${c.cfg}: r ${c.pfid!.r.toFixed(2)} vs ${c.rfid!.r.toFixed(2)}`).join('; ');
    if (small.length > 0) out.push({ claim: c1, status: 'inconclusive', why: `fewer than ${MIN_TOKENIZERS} tokenizers in ${small.length} setting(s); ${detail}` });
    else if (clearWins.length === usable.length) out.push({ claim: c1, status: 'supported', why: `in every setting pFID's interval lies above rFID's r (${detail})` });
    else if (clearLosses.length === usable.length || wins.length === 0) out.push({ claim: c1, status: 'contradicted', why: `rFID correlates as well or better in ${usable.length - wins.length} of ${usable.length} settings (${detail})` });
    else out.push({ claim: c1, status: 'inconclusive', why: `pFID is ahead in ${wins.length} of ${usable.length} settings, clearly (interval above rFID's r) in ${clearWins.length} (${detail})` });
  }

  // 2. LP raises rFID slightly but lowers pFID and gFID
  const c2 = 'LP training lowers pFID and gFID (at a small rFID cost)';
  const pf = effects.filter((e) => e.metric === 'pfid_mean' && e.delta !== null);
  const gf = effects.filter((e) => e.metric.startsWith('gfid') && e.delta !== null);
  if (weak) out.push({ claim: c2, status: 'inconclusive', why: weak });
  else if (pf.length === 0) out.push({ claim: c2, status: 'inconclusive', why: 'no ±LP pair had scores on both sides' });
  else {
    const lower = (es: LpEffect[]): number => es.filter((e) => (e.delta ?? 0) < 0 && e.exceedsSpread).length;
    const higher = (es: LpEffect[]): number => es.filter((e) => (e.delta ?? 0) > 0 && e.exceedsSpread).length;
    const detail = `pFID lower beyond seed spread in ${lower(pf)} of ${pf.length} pairs, higher in ${higher(pf)}; gFID lower beyond spread in ${lower(gf)} of ${gf.length} pair×setting cells, higher in ${higher(gf)}`;
    if (pf.some((e) => e.exceedsSpread === null)) out.push({ claim: c2, status: 'inconclusive', why: `some pairs have a single seed, so no spread to compare with; ${detail}` });
    else if (lower(pf) === pf.length && lower(gf) > gf.length / 2) out.push({ claim: c2, status: 'supported', why: detail });
    else if (higher(pf) > pf.length / 2 || higher(gf) > gf.length / 2) out.push({ claim: c2, status: 'contradicted', why: detail });
    else out.push({ claim: c2, status: 'inconclusive', why: detail });
  }

  // 3. post-training lowers gFID further
  const c3 = 'decoder post-training lowers gFID further';
  if (!posttrain || posttrain.length === 0) out.push({ claim: c3, status: 'not tested', why: 'this plan runs no post-training' });
  else if (weak) out.push({ claim: c3, status: 'inconclusive', why: weak });
  else {
    const better = posttrain.filter((p) => p.after < p.before).length;
    out.push({ claim: c3, status: better === posttrain.length ? 'supported' : better === 0 ? 'contradicted' : 'inconclusive', why: `gFID fell in ${better} of ${posttrain.length} post-trained decoders` });
  }
  return out;
}
