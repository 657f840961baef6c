// Benchmark: images/s of the SAME VQ decoder through onnxruntime-node (CPU, intraOpNumThreads 1 and 2)
// and through tfjs-wasm (VqTokenizer.decodeLatent, at the bench's thread count: TOKLAB_THREADS, 1 under
// `npm run bench`). The decoder is toklab's own: the bench builds a VqTokenizer of a preset, writes
// its decoder weights, and bench/reference/decoder_onnx.py loads them into the PyTorch copy of the
// architecture and exports it with torch.onnx.export (opset 13, dynamic batch). Before timing, the
// parameter counts must match and onnxruntime's output must equal decodeLatent's on the same latents
// within 1e-4 (absolute); otherwise the file's rows fail. onnxruntime runs on the providers of
// TOKLAB_ORT_PROVIDERS (default: the CPU). Skipped, with the reason on stderr, when /usr/bin/python3
// cannot import torch or onnxruntime-node does not load.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { initBackend } from '../engine/backend';
import { tf } from '../engine/tf';
import { Rng } from '../engine/rng';
import { createTokenizer, resolveTokenizerConfig, type VqTokenizer } from '../engine/models/vq-tokenizer';
import { lookup } from '../engine/models/quantizer';
import { loadOrt, openSession, wantedProviders } from '../engine/onnx/runtime';
import { nchwToNhwc, nhwcToNchw } from '../engine/onnx/tensors';
import { referenceThreads, TORCH_PYTHON, torchAvailable } from './reference';
import type { Bench, BenchResult } from './types';

export interface OnnxDecoderBenchOptions {
  cases?: { preset: string; size: number }[];
  batch?: number;
  warmup?: number;
  reps?: number;
  /** onnxruntime intraOpNumThreads to time; default 1 and 2 (2 only on ≥ 2 cores). */
  ortThreads?: number[];
}

export const DECODER_CASES = [
  { preset: 'vq-f4-k1024', size: 32 },
  { preset: 'vq-f4-k1024', size: 16 },
];
/** Largest |onnxruntime − tfjs| accepted on the same latents (float32 through ~20 layers). */
export const EQUAL_TOL = 1e-4;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`output sizes differ: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/**
 * Gives the decoder's biases and GroupNorm affine parameters random values (they start at 0 and 1),
 * so a bias or γ/β mapped to the wrong place in the export cannot pass the equality check.
 */
function randomizeDecoderAffine(tok: VqTokenizer, rng: Rng): void {
  tf.tidy(() => {
    for (const [k, v] of Object.entries(tok.params)) {
      if (!k.startsWith('dec.') || v.shape.length !== 1) continue;
      const a = new Float32Array(v.size);
      const isGain = k.endsWith('.g');
      for (let i = 0; i < a.length; i++) a[i] = (isGain ? 1 : 0) + (rng.uniform() - 0.5) * (isGain ? 0.5 : 0.2);
      v.assign(tf.tensor(a, v.shape, 'float32'));
    }
  });
}

/** The decoder's tensors as one float32 file plus a manifest (toklab layouts), and their element count. */
function writeDecoderWeights(tok: VqTokenizer, file: string): { manifest: { name: string; shape: number[]; offset: number }[]; params: number } {
  const entries = Object.entries(tok.params).filter(([k]) => k.startsWith('dec.'));
  const total = entries.reduce((n, [, v]) => n + v.size, 0);
  const flat = new Float32Array(total);
  const manifest: { name: string; shape: number[]; offset: number }[] = [];
  let off = 0;
  for (const [name, v] of entries) {
    flat.set(v.dataSync() as Float32Array, off);
    manifest.push({ name, shape: v.shape, offset: off });
    off += v.size;
  }
  writeFileSync(file, Buffer.from(flat.buffer, flat.byteOffset, flat.byteLength));
  return { manifest, params: total };
}

interface ExportResult {
  params: number;
  torch: string;
  opset: number;
  onnx: string;
  torchMaxAbsDiff: number | null;
}

function exportDecoder(config: Record<string, unknown>): ExportResult {
  const script = fileURLToPath(new URL('./reference/decoder_onnx.py', import.meta.url));
  let text: string;
  try {
    text = execFileSync(TORCH_PYTHON, [script, JSON.stringify(config)], { encoding: 'utf8', timeout: 10 * 60_000, maxBuffer: 16 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stderr?: string; message?: string };
    throw new Error(`decoder_onnx.py failed: ${(e.stderr ?? '').trim().split('\n').slice(-3).join(' | ') || e.message}`);
  }
  return JSON.parse(text.trim().split('\n').pop() ?? '') as ExportResult;
}

const f32file = (file: string, a: Float32Array): void => writeFileSync(file, Buffer.from(a.buffer, a.byteOffset, a.byteLength));

export async function runOnnxDecoderBench(opts: OnnxDecoderBenchOptions = {}): Promise<BenchResult[]> {
  const torch = torchAvailable();
  if (!torch.ok) {
    process.stderr.write(`onnx-decoder bench: skipped: ${torch.reason} (it exports the decoder with torch.onnx.export)\n`);
    return [];
  }
  let ort: ReturnType<typeof loadOrt>;
  try {
    ort = loadOrt();
  } catch (e) {
    process.stderr.write(`onnx-decoder bench: skipped: ${(e as Error).message}\n`);
    return [];
  }
  const ortVersion = (ort.env as { versions?: Record<string, string> }).versions?.node ?? (ort.env as { versions?: Record<string, string> }).versions?.common ?? '?';
  const info = await initBackend();
  const B = opts.batch ?? 64;
  const warmup = opts.warmup ?? 2;
  const reps = opts.reps ?? 7;
  const ortThreads = opts.ortThreads ?? referenceThreads();
  const tfThreads = info.threads ?? 1;
  const tfLabel = `tfjs ${info.backend} ${tfThreads} thread${tfThreads === 1 ? '' : 's'}`;
  const providers = wantedProviders();
  const ortLabel = `onnxruntime ${providers[0]}`;
  const tmp = mkdtempSync(join(tmpdir(), 'toklab-onnx-decoder-'));
  const results: BenchResult[] = [];
  try {
    for (const { preset, size } of opts.cases ?? DECODER_CASES) {
      const cfg = resolveTokenizerConfig(preset, size, 3);
      const h = size / cfg.f;
      const D = cfg.D, C = cfg.channels;
      const label = `decoder ${preset} ${size}px batch ${B}`;
      const tok = createTokenizer(cfg, 1);
      try {
        randomizeDecoderAffine(tok, new Rng(7));
        // latents the decoder sees in practice: code vectors of random tokens, NHWC [B,h,h,D]
        const rng = new Rng(11);
        const idx = Int32Array.from({ length: B * h * h }, () => rng.int(cfg.K));
        const zNhwc = tf.tidy(() => lookup(tok.codes(), tf.tensor3d(idx, [B, h, h], 'int32')).dataSync() as Float32Array);
        const zNchw = nhwcToNchw(zNhwc, B, h, h, D);
        const want = tf.tidy(() => tok.decodeLatent(tf.tensor4d(zNhwc, [B, h, h, D])).dataSync() as Float32Array); // NHWC [B,S,S,C]

        const base = join(tmp, `${preset}-${size}`);
        const { manifest, params } = writeDecoderWeights(tok, `${base}.weights.bin`);
        f32file(`${base}.latents.bin`, zNchw);
        f32file(`${base}.expected.bin`, nhwcToNchw(want, B, size, size, C));
        const ex = exportDecoder({
          ...cfg,
          weights: `${base}.weights.bin`,
          manifest,
          out: `${base}.decoder.onnx`,
          check: { latents: `${base}.latents.bin`, expected: `${base}.expected.bin`, n: B },
        });
        if (ex.params !== params) throw new Error(`${label}: the exported decoder has ${ex.params} parameters, toklab's ${params}; not the same model`);
        const details = { preset, size, batch: B, warmup, reps, params, latent: `${h}x${h}x${D}`, torch: ex.torch, opset: ex.opset, ort: ortVersion };

        // tfjs: upload the NHWC latents, decode, read the images back
        const tfMs: number[] = [];
        for (let r = 0; r < warmup + reps; r++) {
          const t0 = performance.now();
          const x = tf.tensor4d(zNhwc, [B, h, h, D]);
          const y = tok.decodeLatent(x);
          y.dataSync();
          tf.dispose([x, y]);
          if (r >= warmup) tfMs.push(performance.now() - t0);
        }
        const tfjs = median(tfMs);
        results.push({ name: `${label} [${tfLabel}]`, backend: info.backend, value: (B * 1000) / tfjs, unit: 'img/s', details: { ...details, ms: tfjs, threads: tfThreads, device: info.device } });

        for (const threads of ortThreads) {
          const th = `${threads} thread${threads === 1 ? '' : 's'}`;
          const session = await openSession(ex.onnx, { threads, providers });
          try {
            const feeds = { [session.inputNames[0]]: { data: zNchw, dims: [B, D, h, h] } };
            const first = await session.run(feeds);
            const img = first[session.outputNames[0]];
            if (img.dims.join(',') !== [B, C, size, size].join(',')) throw new Error(`${label}: onnxruntime returned [${img.dims.join(', ')}], expected [${B}, ${C}, ${size}, ${size}]`);
            const diff = maxAbsDiff(nchwToNhwc(img.data, B, C, size, size), want);
            if (!(diff <= EQUAL_TOL)) throw new Error(`${label}: onnxruntime and tfjs differ by ${diff} (max abs) on the same latents, above ${EQUAL_TOL}; not the same model`);
            // onnxruntime: NCHW latents in, images out (its native layout, as tfjs gets NHWC)
            const ortMs: number[] = [];
            for (let r = 0; r < warmup + reps; r++) {
              const t0 = performance.now();
              await session.run(feeds);
              if (r >= warmup) ortMs.push(performance.now() - t0);
            }
            const o = median(ortMs);
            const d = { ...details, threads, providers: providers.join(','), maxAbsDiff: diff, tolerance: EQUAL_TOL, torchMaxAbsDiff: ex.torchMaxAbsDiff ?? 'n/a' };
            results.push({ name: `${label} [${ortLabel} ${th}]`, backend: ortLabel, value: (B * 1000) / o, unit: 'img/s', details: { ...d, ms: o } });
            results.push({ name: `${label} tfjs/onnxruntime (${th})`, backend: `${info.backend}/onnxruntime`, value: tfjs / o, unit: 'x', details: { ...d, tfjsThreads: tfThreads, tfjsMs: tfjs, onnxruntimeMs: o } });
          } finally {
            await session.release();
          }
        }
      } finally {
        tok.dispose();
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return results;
}

export const bench: Bench = () => runOnnxDecoderBench();

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const r of await runOnnxDecoderBench()) process.stdout.write(`${r.name} [${r.backend}]: ${r.value.toFixed(r.unit === 'x' ? 2 : 1)} ${r.unit}  ${JSON.stringify(r.details)}\n`);
}
