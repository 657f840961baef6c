// The feature space every FID-family number is computed in (METHOD §6): the dataset's lab feature
// network, or a user-supplied ONNX extractor (e.g. the standard FID InceptionV3). Scores record the
// extractor's id, so numbers from different extractors are never compared (engine/metrics/provenance.ts).
import fs from 'node:fs';
import path from 'node:path';
import type { JsonObject } from '../protocol';
import { fileHash, openSession, shapeText, type OnnxSession } from '../onnx/runtime';
import { imagesToModel, resizeBilinear } from '../onnx/tensors';
import type { AddExtractorSpec, OnnxLayout, OnnxRange } from '../specs/import-onnx';
import type { LoadedFeatureNet } from '../features';

export interface ExtractorEmbedding {
  /** [n,d] row-major */
  feats: Float32Array;
  /** Softmax over the extractor's classes [n,c], or null when it has no logits. */
  probs: Float32Array | null;
}

export interface Extractor {
  id: string;
  kind: 'lab' | 'onnx';
  /** Test accuracy on the dataset (lab network); null for an external extractor. */
  accuracy: number | null;
  d: number;
  /** The extractor's classes are the dataset's (the lab network), so top-1 against labels means something. */
  datasetClasses: boolean;
  /** Provenance fields beside extractorId. */
  identity: JsonObject;
  /** Images NHWC [n,S,S,C] in [-1,1] → features (and class probabilities). */
  embed(x: Float32Array, n: number, S: number, C: number): Promise<ExtractorEmbedding>;
  dispose(): Promise<void>;
}

/** The dataset's lab feature network behind the extractor interface. */
export function labExtractor(net: LoadedFeatureNet): Extractor {
  const H = net.meta.arch.imageSize, Cv = net.meta.arch.channels;
  return {
    id: net.id,
    kind: 'lab',
    accuracy: net.meta.testAccuracy,
    d: net.meta.featureDim,
    datasetClasses: true,
    identity: { extractorKind: 'lab', extractorAccuracy: net.meta.testAccuracy },
    embed: async (x, n, S, C) => {
      if (S !== H || C !== Cv) throw new Error(`the feature network takes ${H}×${H}×${Cv} images, the tokenizer makes ${S}×${S}×${C}`);
      return net.embed(x, n);
    },
    dispose: async () => net.dispose(),
  };
}

export interface OnnxExtractorConfig {
  kind: 'onnx-extractor';
  /** 'onnx-' + sha256 of the model file (16 hex). */
  id: string;
  name: string;
  input: number;
  channels: number;
  range: OnnxRange;
  layout: OnnxLayout;
  inputName: string;
  features: string;
  logits: string | null;
  featureDim: number;
  numClasses: number | null;
  source: string;
}

export const ONNX_EXTRACTOR_FILE = 'model.onnx';
const EMBED_BATCH = 32;

export function onnxExtractorId(file: string): string {
  return `onnx-${fileHash(file)}`;
}

/** The extractor's declared input channels (1 or 3), from its input shape; 3 when symbolic. */
function inputChannels(s: OnnxSession, name: string, layout: OnnxLayout): number {
  const shape = s.inputShapes[name];
  const c = shape?.[layout === 'nchw' ? 1 : 3];
  return c === 1 ? 1 : 3;
}

async function runExtractor(s: OnnxSession, cfg: Pick<OnnxExtractorConfig, 'input' | 'channels' | 'range' | 'layout' | 'inputName' | 'features' | 'logits'>, x: Float32Array, n: number, S: number, C: number) {
  // grayscale images go to a 3-channel extractor as three equal channels (as torchvision's Grayscale(3))
  let img = x;
  if (C === 1 && cfg.channels === 3) {
    img = new Float32Array(n * S * S * 3);
    for (let i = 0; i < n * S * S; i++) img[3 * i] = img[3 * i + 1] = img[3 * i + 2] = x[i];
  } else if (C !== cfg.channels) throw new Error(`the extractor takes ${cfg.channels}-channel images; these have ${C}`);
  const Ci = cfg.channels;
  const r = resizeBilinear(img, n, S, S, Ci, cfg.input, cfg.input);
  const out = await s.run({ [cfg.inputName]: imagesToModel(r, n, cfg.input, Ci, cfg.layout, cfg.range) });
  const f = out[cfg.features];
  const l = cfg.logits ? out[cfg.logits] : undefined;
  return { f, l };
}

/** Features rows [n, d] from an output of shape [n, d] or [n, d, 1, 1]. */
function rows(o: { data: Float32Array; dims: number[] }, n: number, what: string): number {
  const [b, ...rest] = o.dims;
  const d = rest.reduce((a, v) => a * v, 1);
  if (b !== n || rest.length === 0 || rest.slice(1).some((v) => v !== 1)) throw new Error(`the extractor's output "${what}" has shape ${shapeText(o.dims)}; expected [${n}, d] or [${n}, d, 1, 1]`);
  return d;
}

function softmaxRows(logits: Float32Array, n: number, c: number): Float32Array {
  const p = new Float32Array(n * c);
  for (let i = 0; i < n; i++) {
    let m = -Infinity;
    for (let j = 0; j < c; j++) m = Math.max(m, logits[i * c + j]);
    let s = 0;
    for (let j = 0; j < c; j++) s += (p[i * c + j] = Math.exp(logits[i * c + j] - m));
    for (let j = 0; j < c; j++) p[i * c + j] /= s;
  }
  return p;
}

/** Checks a model file against the declared input, range and outputs on a probe batch; returns its config. */
export async function probeOnnxExtractor(spec: AddExtractorSpec): Promise<OnnxExtractorConfig> {
  const s = await openSession(spec.model, { threads: 1 });
  try {
    if (s.inputNames.length !== 1) throw new Error(`the extractor ${spec.model} has ${s.inputNames.length} inputs (${s.inputNames.join(', ')}); toklab feeds one image tensor`);
    const inputName = s.inputNames[0];
    const pick = (want: string, fallback: string | undefined, what: string): string | null => {
      if (want) {
        if (!s.outputNames.includes(want)) throw new Error(`the extractor has no output "${want}" (${what}); its outputs are ${s.outputNames.join(', ')}`);
        return want;
      }
      return fallback ?? null;
    };
    const features = pick(spec.features, s.outputNames[0], 'features') as string;
    const logits = pick(spec.logits, s.outputNames.find((o) => o !== features), 'logits');
    const channels = inputChannels(s, inputName, spec.layout);
    const declared = s.inputShapes[inputName];
    const want = spec.layout === 'nchw' ? [2, channels, spec.input, spec.input] : [2, spec.input, spec.input, channels];
    if (declared && (declared.length !== 4 || declared.some((d, i) => d !== null && d !== want[i]))) {
      throw new Error(`the extractor's input "${inputName}" expects ${shapeText(declared)}, but --input ${spec.input} with layout ${spec.layout} feeds ${shapeText(want)}; check --input and --layout`);
    }
    const S = 16;
    const x = new Float32Array(2 * S * S * channels).map((_, i) => Math.sin(i * 0.37));
    const cfg = { input: spec.input, channels, range: spec.range, layout: spec.layout, inputName, features, logits };
    const { f, l } = await runExtractor(s, cfg, x, 2, S, channels);
    const featureDim = rows(f, 2, features);
    const numClasses = l ? rows(l, 2, logits as string) : null;
    return { kind: 'onnx-extractor', id: onnxExtractorId(spec.model), name: spec.name, ...cfg, featureDim, numClasses, source: spec.model };
  } finally {
    await s.release();
  }
}

export function readOnnxExtractorConfig(runDir: string): OnnxExtractorConfig {
  const file = path.join(runDir, 'config.json');
  if (!fs.existsSync(file)) throw new Error(`${runDir} has no config.json; is it an extractor run?`);
  const c = JSON.parse(fs.readFileSync(file, 'utf8')) as OnnxExtractorConfig;
  if (c.kind !== 'onnx-extractor') throw new Error(`${file} describes a "${String(c.kind)}" run, not an ONNX extractor`);
  return c;
}

/** A registered ONNX extractor from its run folder; the model must still hash to its id. */
export async function loadOnnxExtractor(runDir: string): Promise<Extractor> {
  const cfg = readOnnxExtractorConfig(runDir);
  const file = path.join(runDir, ONNX_EXTRACTOR_FILE);
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: the extractor's folder is damaged; add it again`);
  const id = onnxExtractorId(file);
  if (id !== cfg.id) throw new Error(`${file} hashes to ${id}, not ${cfg.id} as registered: the file changed; add the extractor again`);
  const s = await openSession(file);
  return {
    id,
    kind: 'onnx',
    accuracy: null,
    d: cfg.featureDim,
    datasetClasses: false,
    identity: { extractorKind: 'onnx', extractorAccuracy: null, extractorName: cfg.name, extractorInput: cfg.input, extractorRange: cfg.range },
    async embed(x, n, S, C) {
      const per = S * S * C;
      const feats = new Float32Array(n * cfg.featureDim);
      const probs = cfg.numClasses ? new Float32Array(n * cfg.numClasses) : null;
      for (let i = 0; i < n; i += EMBED_BATCH) {
        const b = Math.min(EMBED_BATCH, n - i);
        const { f, l } = await runExtractor(s, cfg, x.subarray(i * per, (i + b) * per), b, S, C);
        if (rows(f, b, cfg.features) !== cfg.featureDim) throw new Error(`the extractor gave ${f.dims.join('×')} features; registered with d = ${cfg.featureDim}`);
        feats.set(f.data, i * cfg.featureDim);
        if (probs && l) probs.set(softmaxRows(l.data, b, cfg.numClasses as number), i * (cfg.numClasses as number));
      }
      return { feats, probs };
    },
    dispose: () => s.release(),
  };
}
