// onnxruntime-node for models trained elsewhere (external tokenizers, standard feature extractors).
// Loaded lazily: only jobs that touch an ONNX model pay for it, and a machine where the native
// package is missing gets one clear message. It runs natively (N-API) on every core, beside tfjs.
//
// Execution providers: CPU always (bundled for Linux, macOS and Windows). CUDA when the machine has
// it: onnxruntime-node downloads the CUDA provider at install time unless told to skip (this project's
// .npmrc skips it so `npm ci` works offline); TOKLAB_ORT_PROVIDERS=cuda,cpu asks for it. A provider
// that cannot load fails the session with a message that says how to install it or unset the variable,
// rather than running on the CPU under a GPU label.
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type * as OrtTypes from 'onnxruntime-node';
import { wantedThreads } from '../wasm-threads';

const requireHere = createRequire(import.meta.url);

export type Ort = typeof OrtTypes;
let ortModule: Ort | null = null;

/** The onnxruntime-node module, loaded on first use. */
export function loadOrt(): Ort {
  if (ortModule) return ortModule;
  try {
    ortModule = requireHere('onnxruntime-node') as Ort;
  } catch (e) {
    throw new Error(
      `onnxruntime-node could not be loaded (${(e as Error).message.split('\n')[0]}): reinstall it with \`ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node@1.30.0\` (works offline; the CPU binaries are bundled)`,
    );
  }
  return ortModule;
}

/** Execution providers to ask for: TOKLAB_ORT_PROVIDERS (comma list, e.g. "cuda,cpu"), else the CPU. */
export function wantedProviders(env: NodeJS.ProcessEnv = process.env): string[] {
  const v = env.TOKLAB_ORT_PROVIDERS?.trim();
  if (!v) return ['cpu'];
  const list = v.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  const known = ['cpu', 'cuda', 'tensorrt', 'webgpu', 'coreml', 'dml'];
  for (const p of list) if (!known.includes(p)) throw new Error(`TOKLAB_ORT_PROVIDERS names "${p}": use a comma list of ${known.join(', ')} (e.g. "cuda,cpu"), or unset it for the CPU`);
  if (!list.includes('cpu')) list.push('cpu');
  return list;
}

export interface OnnxSession {
  /** The file as given (its identity for provenance is fileHash(file), computed by the caller once). */
  file: string;
  inputNames: readonly string[];
  outputNames: readonly string[];
  /** Declared input shapes (null entries: symbolic or unknown dims), by input name. */
  inputShapes: Record<string, (number | null)[] | null>;
  outputShapes: Record<string, (number | null)[] | null>;
  /** What the session was created with. */
  providers: string[];
  threads: number;
  /** Runs the model on float32 inputs; returns every output as float32 with its dims. */
  run(feeds: Record<string, { data: Float32Array; dims: number[] }>): Promise<Record<string, { data: Float32Array; dims: number[] }>>;
  release(): Promise<void>;
}

/** sha256 of a file's bytes, first 16 hex digits: the identity of an ONNX model or a codebook. */
export function fileHash(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 16);
}

function shapesOf(meta: readonly unknown[] | undefined, names: readonly string[]): Record<string, (number | null)[] | null> {
  const out: Record<string, (number | null)[] | null> = {};
  names.forEach((name, i) => {
    const m = meta?.[i] as { isTensor?: boolean; shape?: readonly (number | string)[] } | undefined;
    out[name] = m && m.isTensor !== false && Array.isArray(m.shape) ? m.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : null)) : null;
  });
  return out;
}

/** "[n, 3, 16, 16]" for messages (null dims print as their symbolic stand-in). */
export function shapeText(shape: readonly (number | null)[] | null): string {
  return shape ? `[${shape.map((d) => (d === null ? '?' : String(d))).join(', ')}]` : '[unknown]';
}

/** An inference session on `file` with intra-op threads = TOKLAB_THREADS or every core. */
export async function openSession(file: string, opts: { threads?: number; providers?: string[] } = {}): Promise<OnnxSession> {
  const ort = loadOrt();
  const threads = opts.threads ?? wantedThreads();
  const providers = opts.providers ?? wantedProviders();
  let session: OrtTypes.InferenceSession;
  try {
    session = await ort.InferenceSession.create(file, { intraOpNumThreads: threads, interOpNumThreads: 1, executionProviders: providers, graphOptimizationLevel: 'all' });
  } catch (e) {
    const msg = (e as Error).message;
    if (providers.some((p) => p !== 'cpu') && /provider|cuda|tensorrt|cannot load|not found|unsupported/i.test(msg)) {
      throw new Error(`${file}: onnxruntime could not start the execution providers ${providers.join(', ')} (${msg.split('\n')[0]}); install the CUDA provider (docs/BENCHMARKS.md, "GPU") or unset TOKLAB_ORT_PROVIDERS to run on the CPU`);
    }
    throw new Error(`${file} is not a model onnxruntime can load: ${msg.split('\n')[0]}. Export it again with torch.onnx.export (opset 13 or newer).`);
  }
  const s = session as OrtTypes.InferenceSession & { inputMetadata?: readonly unknown[]; outputMetadata?: readonly unknown[] };
  return {
    file,
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    inputShapes: shapesOf(s.inputMetadata, session.inputNames),
    outputShapes: shapesOf(s.outputMetadata, session.outputNames),
    providers,
    threads,
    async run(feeds) {
      const inputs: Record<string, OrtTypes.Tensor> = {};
      for (const [k, v] of Object.entries(feeds)) inputs[k] = new ort.Tensor('float32', v.data, v.dims);
      const res = await session.run(inputs);
      const out: Record<string, { data: Float32Array; dims: number[] }> = {};
      for (const [k, t] of Object.entries(res)) {
        if (t.type !== 'float32') throw new Error(`${file}: output "${k}" is ${t.type}, toklab reads float32 outputs; export the model with float32 outputs`);
        out[k] = { data: t.data as Float32Array, dims: [...t.dims] };
        t.dispose?.();
      }
      return out;
    },
    release: () => session.release(),
  };
}
