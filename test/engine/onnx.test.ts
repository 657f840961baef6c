// Tokenizers and extractors trained elsewhere, through ONNX, against the PyTorch references stored with
// the fixtures (test/fixtures/onnx, made once by make_fixtures.py): reconstructions, nearest codes, LP flip
// statistics, torch-equivalent resizing, extractor features, FID and IS; refusals of wrong layouts,
// codebooks and ranges; a streamed evaluation that resumes after a cancel with the same numbers.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../engine/tf';
import { initBackend } from '../../engine/backend';
import { Rng } from '../../engine/rng';
import { parseNpy } from '../../engine/metrics/npy';
import { featureStats, fidFromStats } from '../../engine/metrics/fid';
import { inceptionScore } from '../../engine/metrics/inception-score';
import { writePackedDataset } from '../../engine/data/packed';
import { lookup, nearestCodes } from '../../engine/models/quantizer';
import { loadOnnxTokenizer } from '../../engine/models/onnx-tokenizer';
import { loadOnnxExtractor } from '../../engine/models/extractor';
import { resizeBilinear } from '../../engine/onnx/tensors';
import { perturbTokens } from '../../engine/perturb';
import { addExtractor, importTokenizer } from '../../engine/jobs/import-onnx';
import { evalTokenizer } from '../../engine/jobs/eval-tokenizer';
import { JobCancelled, type JobContext } from '../../engine/jobs/types';
import type { JsonObject, ScoreRecord } from '../../engine/protocol';

const FX = path.join(__dirname, '..', 'fixtures', 'onnx');
const fx = (f: string): string => path.join(FX, f);
const manifest = JSON.parse(fs.readFileSync(fx('manifest.json'), 'utf8')) as { reference: { fid_eigh: number; fid_sqrtm: number; is_1split: number } };
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'toklab-onnx-'));

/** A .npy of any of the dtypes the fixtures use (|u1, <i4, <f4), as a typed array and its shape. */
function npy(file: string): { data: Uint8Array | Int32Array | Float32Array; shape: number[] } {
  const buf = fs.readFileSync(fx(file));
  const len = buf.readUInt16LE(8);
  const header = buf.subarray(10, 10 + len).toString('latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(header)![1];
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)![1].split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const body = buf.subarray(10 + len);
  if (descr === '<f4' || descr === '<f8') return { data: Float32Array.from(parseNpy(buf, file).data), shape };
  const copy = new Uint8Array(body.length);
  copy.set(body);
  if (descr === '|u1') return { data: copy, shape };
  if (descr === '<i4') return { data: new Int32Array(copy.buffer), shape };
  throw new Error(`${file}: dtype ${descr}`);
}

const images = npy('images.npy').data as Uint8Array; // [192,16,16,3]
const labels = npy('labels.npy').data as Int32Array;
const PER = 16 * 16 * 3;
const toUnit = (u8: Uint8Array): Float32Array => Float32Array.from(u8, (v) => v / 127.5 - 1);

function ctxFor(name: string, onProgress?: (done: number, ctrl: AbortController) => void) {
  const runDir = path.join(home, 'runs', name);
  fs.mkdirSync(runDir, { recursive: true });
  const ctrl = new AbortController();
  const rec = { scores: [] as ScoreRecord[], logs: [] as { level: string; message: string }[] };
  const ctx: JobContext = {
    home,
    runDir,
    runId: 1,
    signal: ctrl.signal,
    progress: (d) => onProgress?.(d, ctrl),
    metrics: () => {},
    score: (s) => rec.scores.push(s),
    artifact: () => {},
    log: (level, message) => rec.logs.push({ level, message }),
  };
  return { ctx, rec, runDir };
}

const tokSpec = (extra: JsonObject = {}): JsonObject => ({ encoder: fx('encoder.onnx'), decoder: fx('decoder.onnx'), codebook: fx('codebook.npy'), name: 'fixture', l2: true, ...extra });
const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
  await importTokenizer(tokSpec(), ctxFor('tok-l2').ctx);
  await importTokenizer(tokSpec({ l2: false }), ctxFor('tok-euclid').ctx);
  await addExtractor({ model: fx('extractor.onnx'), name: 'fx', input: 24, range: '0,1' }, ctxFor('fx').ctx);
  // a packed dataset of the fixture images: every image in val, so the evaluation streams 3 batches
  writePackedDataset(
    path.join(home, 'datasets', 'fx'),
    { name: 'fx', kind: 'imagefolder', source: 'fixture', resolution: 16, channels: 3, classes: Array.from({ length: 10 }, (_, i) => `c${i}`), seed: 0, valShare: 1, skipped: [], resize: 'none', createdAt: 'fixture' },
    { train: { x: images.subarray(0, 8 * PER), y: labels.subarray(0, 8) }, val: { x: images, y: labels } },
  );
});
afterAll(async () => {
  fs.rmSync(home, { recursive: true, force: true });
  await initBackend({ prefer: 'cpu' });
});

describe('an imported ONNX tokenizer', () => {
  it('records its shapes and file hashes from the probe, and copies the files', () => {
    const cfg = JSON.parse(fs.readFileSync(path.join(home, 'runs', 'tok-l2', 'config.json'), 'utf8'));
    expect(cfg.model).toEqual({ imageSize: 16, channels: 3, K: 64, D: 8, h: 8, w: 8, f: 2, codebookNorm: 'l2', layout: 'nchw', range: '-1,1' });
    for (const f of ['encoder.onnx', 'decoder.onnx', 'codebook.npy']) expect(fs.readFileSync(path.join(home, 'runs', 'tok-l2', f)).equals(fs.readFileSync(fx(f)))).toBe(true);
    expect(cfg.hashes.encoder).toMatch(/^[0-9a-f]{16}$/);
  });

  for (const variant of ['l2', 'euclid'] as const) {
    it(`quantizes with toklab's ${variant} rule and decodes to PyTorch's reconstructions within 1e-5`, async () => {
      const model = await loadOnnxTokenizer(path.join(home, 'runs', `tok-${variant}`));
      const before = tf.memory().numTensors;
      try {
        const n = 32;
        const z = await model.encode(toUnit(images.subarray(0, n * PER)), n);
        const codes = model.codes();
        const [idx, e] = tf.tidy(() => {
          const q = nearestCodes(tf.tensor4d(z, [n, 8, 8, 8]), codes, model.quant);
          return [q.values, lookup(codes, q.indices).dataSync() as Float32Array];
        });
        codes.dispose();
        expect(Array.from(idx)).toEqual(Array.from(npy(`indices_${variant}.npy`).data));
        const rec = await model.decode(e, n);
        expect(maxAbs(rec, npy(`recon_${variant}.npy`).data)).toBeLessThan(1e-5);
        if (variant === 'euclid') expect(maxAbs(z, npy('latent.npy').data)).toBeLessThan(1e-5);
        expect(tf.memory().numTensors).toBe(before);
      } finally {
        await model.dispose();
      }
    });
  }

  it('LP on its latents flips α(δ−1)/δ of the tokens, always to one of the δ nearest codes', async () => {
    const model = await loadOnnxTokenizer(path.join(home, 'runs', 'tok-l2'));
    const n = 32, T = 64;
    const z = await model.encode(toUnit(images.subarray(0, n * PER)), n);
    const codes = model.codes();
    const zt = tf.tensor4d(z, [n, 8, 8, 8]);
    try {
      const clean = tf.tidy(() => nearestCodes(zt, codes, model.quant).values);
      const sims = tf.tidy(() => tf.matMul(tf.reshape(zt, [-1, 8]), codes, false, true).arraySync() as number[][]);
      for (const [alpha, delta] of [[0.5, 4], [1, 8], [0.25, 16]]) {
        const draw = perturbTokens(zt, codes, clean, { alpha, beta: 1, delta, deltaMode: 'abs', includeSelf: true, selection: 'bernoulli', anchor: 'z' }, new Rng(7), model.quant);
        const rate = draw.changed / (n * T);
        const p = (alpha * (delta - 1)) / delta;
        expect(Math.abs(rate - p), `α ${alpha} δ ${delta}`).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / (n * T)));
        for (let t = 0; t < n * T; t++) {
          const rank = sims[t].filter((s) => s > sims[t][draw.indices[t]]).length;
          expect(rank).toBeLessThan(delta);
        }
      }
    } finally {
      zt.dispose();
      codes.dispose();
      await model.dispose();
    }
  });

  it('refuses to load a run whose copied file changed since the import (its hash is in every score)', async () => {
    const dir = path.join(home, 'runs', 'tok-tampered');
    fs.cpSync(path.join(home, 'runs', 'tok-l2'), dir, { recursive: true });
    const cb = fs.readFileSync(path.join(dir, 'codebook.npy'));
    cb[cb.length - 1] ^= 1;
    fs.writeFileSync(path.join(dir, 'codebook.npy'), cb);
    await expect(loadOnnxTokenizer(dir)).rejects.toThrow(/codebook\.npy hashes to [0-9a-f]{16}, not [0-9a-f]{16} as imported: the file changed; import the tokenizer again/);
    const ex = path.join(home, 'runs', 'fx-tampered');
    fs.cpSync(path.join(home, 'runs', 'fx'), ex, { recursive: true });
    fs.appendFileSync(path.join(ex, 'model.onnx'), Buffer.from([0]));
    await expect(loadOnnxExtractor(ex)).rejects.toThrow(/model\.onnx hashes to onnx-[0-9a-f]{16}, not onnx-[0-9a-f]{16} as registered: the file changed; add the extractor again/);
  });

  it('refuses a wrong codebook dimension, a wrong layout and a wrong range, naming the tensor and both shapes; writes no config', async () => {
    const cases: [JsonObject, RegExp][] = [
      [{ codebook: fx('codebook_d4.npy') }, /codebook .*codebook_d4\.npy is \[K = 64, D = 4\], but the encoder's output "latent" has shape \[2, 8, 8, 8\] \(layout nchw: D = 8\)/],
      [{ layout: 'nhwc' }, /the encoder's input "image" expects \[\?, 3, 16, 16\].*layout nchw \(\[n, C, H, W\], PyTorch\): pass --layout nchw/],
      [{ range: '0,1' }, /the decoder's output "image" reaches -\d\.\d\d on the probe batch, outside the declared range 0,1.*pass --range -1,1/],
      [{ size: 32 }, /the encoder's input "image" expects \[\?, 3, 16, 16\], but layout nchw at 32 px with 3 channels feeds \[2, 3, 32, 32\]/],
    ];
    for (const [extra, msg] of cases) {
      const c = ctxFor(`bad-${JSON.stringify(extra).replace(/\W+/g, '')}`);
      await expect(importTokenizer(tokSpec(extra), c.ctx)).rejects.toThrow(msg);
      expect(fs.existsSync(path.join(c.runDir, 'config.json'))).toBe(false);
    }
    await expect(importTokenizer(tokSpec({ encoder: fx('missing.onnx') }), ctxFor('bad-missing').ctx)).rejects.toThrow(/encoder: ".*missing\.onnx" does not exist\. Check the path of the encoder ONNX file/);
  });
});

describe('an ONNX feature extractor', () => {
  it('resizes exactly as torch.nn.functional.interpolate(bilinear, align_corners=False)', () => {
    const x = Float32Array.from(images.subarray(0, 4 * PER), (v) => v / 255);
    expect(maxAbs(resizeBilinear(x, 4, 16, 16, 3, 24, 24), npy('resized_a.npy').data)).toBeLessThan(1e-6);
  });

  it('gives PyTorch\'s features, and FID and IS equal to the PyTorch/SciPy values within 1e-6 relative', async () => {
    const ex = await loadOnnxExtractor(path.join(home, 'runs', 'fx'));
    try {
      expect(ex.id).toMatch(/^onnx-[0-9a-f]{16}$/);
      const a = await ex.embed(toUnit(images.subarray(0, 96 * PER)), 96, 16, 3);
      const b = await ex.embed(toUnit(images.subarray(96 * PER)), 96, 16, 3);
      expect(maxAbs(a.feats, npy('features_a.npy').data)).toBeLessThan(2e-5);
      expect(maxAbs(b.feats, npy('features_b.npy').data)).toBeLessThan(2e-5);
      const fid = fidFromStats(featureStats(a.feats, 96, 32), featureStats(b.feats, 96, 32)).fid;
      const ref = manifest.reference.fid_eigh;
      expect(Math.abs(fid - ref) / ref).toBeLessThan(1e-6);
      // on PyTorch's own features the eigen form agrees with SciPy's sqrtm to float64 precision
      const fidRef = fidFromStats(featureStats(npy('features_a.npy').data as Float32Array, 96, 32), featureStats(npy('features_b.npy').data as Float32Array, 96, 32)).fid;
      expect(Math.abs(fidRef - manifest.reference.fid_sqrtm) / manifest.reference.fid_sqrtm).toBeLessThan(1e-8);
      const is = inceptionScore(a.probs!, 96, 10, 1).mean;
      expect(Math.abs(is - manifest.reference.is_1split) / manifest.reference.is_1split).toBeLessThan(1e-6);
    } finally {
      await ex.dispose();
    }
  });
});

describe('evaluation of an imported tokenizer with an ONNX extractor', () => {
  const spec = { tokenizerRunDir: 'runs/tok-l2', datasetPath: 'datasets/fx', extractorRunDir: 'runs/fx', alphas: [0.5, 1], deltas: [4, 8], deltaMode: 'abs', seed: 3 };

  it('streams an rFID + 2 × 2 pFID grid, resumes after a cancel with the same numbers, caches the real features', async () => {
    const before = tf.memory().numTensors;
    const full = await evalTokenizer(spec, ctxFor('eval-full').ctx);
    expect(tf.memory().numTensors).toBe(before);
    expect(full).toMatchObject({ extractorKind: 'onnx', tokenizerKind: 'onnx', n: 192, K: 64, reconAcc: null });
    const pfid = full.pfid as number[][];
    expect(pfid.flat().every((v) => Number.isFinite(v) && v > (full.rfid as number))).toBe(true);
    const flips = full.flipRates as number[][];
    expect(Math.abs(flips[1][1] - 7 / 8)).toBeLessThan(0.02);
    // the real features were computed in the pass and cached beside the dataset for the next evaluation
    const cache = path.join(home, 'datasets', 'fx', 'extractors');
    expect(fs.readdirSync(cache)).toEqual([full.extractorId]);

    // cancel after the first batch, then run again in the same run folder: it resumes at image 64
    const c1 = ctxFor('eval-resume', (done, ctrl) => {
      if (done > 0) ctrl.abort();
    });
    await expect(evalTokenizer(spec, c1.ctx)).rejects.toBeInstanceOf(JobCancelled);
    expect(JSON.parse(fs.readFileSync(path.join(c1.runDir, 'eval-state', 'state.json'), 'utf8')).done).toBe(64);
    const c2 = ctxFor('eval-resume');
    const resumed = await evalTokenizer(spec, c2.ctx);
    expect(c2.rec.logs.some((l) => /resuming the evaluation at image 64 of 192/.test(l.message))).toBe(true);
    for (const k of ['rfid', 'rkid', 'pfid', 'pkid', 'flipRates', 'psnr', 'usage', 'perplexity', 'pfidMean']) expect(resumed[k], k).toEqual(full[k]);
    expect(fs.existsSync(path.join(c2.runDir, 'eval-state'))).toBe(false);

    // every score names both models: the extractor by hash id (no accuracy) and the tokenizer's file hashes
    const cfg = JSON.parse(fs.readFileSync(path.join(home, 'runs', 'tok-l2', 'config.json'), 'utf8'));
    for (const s of c2.rec.scores) expect(s.provenance).toMatchObject({ extractorId: full.extractorId, extractorKind: 'onnx', extractorAccuracy: null, tokenizerKind: 'onnx', tokenizerHashes: cfg.hashes });
    expect(c2.rec.scores.some((s) => s.metric === 'eval/recon_acc')).toBe(false);
  });

  it('refuses a dataset at another image size, naming both', async () => {
    writePackedDataset(
      path.join(home, 'datasets', 'fx8'),
      { name: 'fx8', kind: 'imagefolder', source: 'fixture', resolution: 8, channels: 3, classes: ['a', 'b'], seed: 0, valShare: 1, skipped: [], resize: 'none', createdAt: 'fixture' },
      { train: { x: new Uint8Array(2 * 192), y: Int32Array.from([0, 1]) }, val: { x: new Uint8Array(2 * 192), y: Int32Array.from([0, 1]) } },
    );
    await expect(evalTokenizer({ ...spec, datasetPath: 'datasets/fx8' }, ctxFor('eval-size').ctx)).rejects.toThrow(/the tokenizer takes 16×16×3 images, but dataset datasets\/fx8 holds 8×8×3/);
  });
});
