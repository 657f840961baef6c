// Decoder post-training: only decoder weights change (encoder + codebook byte-identical to the parent's
// EMA weights), the decoder loss on generator-made tokens falls, and the run loads as a tokenizer.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../engine/tf';
import { Rng, deriveSeed } from '../../engine/rng';
import { JobCancelled } from '../../engine/jobs/types';
import { posttrain } from '../../engine/jobs/posttrain';
import { openPackedDataset } from '../../engine/data/packed';
import { loadGenerator } from '../../engine/models/generator-store';
import { loadTokenizer, readTokenizerRunConfig } from '../../engine/models/vq-tokenizer';
import { validatePosttrainSpec } from '../../engine/specs/posttrain';
import { tokenizeImages } from '../../engine/models/vq-tokenizer';
import { decodedMse, decoderVars, teacherForcedTokens } from '../../engine/train/decoder-posttrainer';
import { makeHome, recorder, type Home } from './eval-generator.fixture';

let h: Home;
beforeAll(async () => {
  await tf.setBackend('cpu');
  h = makeHome(fs.mkdtempSync(path.join(os.tmpdir(), 'toklab-posttrain-')));
});
afterAll(() => fs.rmSync(h.home, { recursive: true, force: true }));

function bytes(t: tf.Tensor): Buffer {
  return Buffer.from((t.dataSync() as Float32Array).buffer);
}

describe('posttrain spec', () => {
  it('fills defaults and refuses bad settings', () => {
    expect(validatePosttrainSpec({ tokenizerRunDir: 't', generatorRunDir: 'g' })).toEqual({ tokenizerRunDir: 't', generatorRunDir: 'g', sigma: 0.7, epochs: 2, lr: 1e-4, batchSize: 32, seed: 0, trainLimit: 0, minExtractorAccuracy: 0.9 });
    expect(() => validatePosttrainSpec({ generatorRunDir: 'g' })).toThrow(/tokenizerRunDir/);
    expect(() => validatePosttrainSpec({ tokenizerRunDir: 't' })).toThrow(/generatorRunDir/);
    expect(() => validatePosttrainSpec({ tokenizerRunDir: 't', generatorRunDir: 'g', sigma: 1.5 })).toThrow(/sigma/);
    expect(() => validatePosttrainSpec({ tokenizerRunDir: 't', generatorRunDir: 'g', lr: 0 })).toThrow(/lr/);
  });
});

describe('teacher-forced generation', () => {
  it('σ = 1 reproduces the true tokens, σ = 0 is free sampling', async () => {
    const { gen } = loadGenerator(path.join(h.home, h.genRel));
    try {
      const truth = Int32Array.from({ length: 6 * 4 }, (_, i) => (i * 7) % 64);
      const labels = Int32Array.from([0, 1, 2, 0, 1, 2]);
      const rngs = () => Array.from({ length: 6 }, (_, i) => new Rng(i));
      expect(await teacherForcedTokens(gen, truth, labels, 1, rngs())).toEqual(truth);
      const free = await teacherForcedTokens(gen, truth, labels, 0, rngs());
      expect(free).not.toEqual(truth);
    } finally {
      gen.dispose();
    }
  });
});

describe('posttrain job', () => {
  it('changes only the decoder, lowers its loss on generator tokens and leaves a loadable tokenizer run', async () => {
    const r = recorder(h.home, 'runs/20');
    const before = tf.memory().numTensors;
    const res = await posttrain({ tokenizerRunDir: h.tokRel, generatorRunDir: h.genRel, sigma: 0.7, epochs: 2, lr: 3e-3, batchSize: 8, seed: 1 }, r.ctx);
    expect(tf.memory().numTensors).toBe(before);
    // 30 training images, batch 8, drop last → 3 steps per epoch
    expect(res).toMatchObject({ parentTokenizerRun: 'runs/1', generatorRun: 'runs/2', sigma: 0.7, steps: 6 });

    const rc = readTokenizerRunConfig(r.ctx.runDir);
    expect(rc).toMatchObject({ kind: 'vq-tokenizer', parentTokenizerRun: 'runs/1', generatorRun: 'runs/2', dataset: h.datasetRel });
    const parent = loadTokenizer(path.join(h.home, h.tokRel)); // EMA weights, the starting point
    const child = loadTokenizer(r.ctx.runDir);
    const { gen } = loadGenerator(path.join(h.home, h.genRel));
    const ds = openPackedDataset(path.join(h.home, h.datasetRel));
    try {
      let changed = 0;
      for (const [k, v] of Object.entries(parent.params)) {
        const same = bytes(v).equals(bytes(child.params[k]));
        if (k.startsWith('dec.')) changed += same ? 0 : 1;
        else expect(same, `${k} must stay frozen`).toBe(true);
      }
      expect(changed).toBe(Object.keys(decoderVars(parent)).length);
      expect(Object.keys(parent.params).some((k) => k.startsWith('enc.'))).toBe(true);
      expect(parent.params['quant.codebook']).toBeDefined();

      // fresh generator tokens for held-out images (streams the job never used): lower decoder MSE
      const val = ds.split('val');
      const enc = tokenizeImages(parent, val, 16, undefined, new AbortController().signal);
      const rngs = Array.from({ length: enc.n }, (_, i) => new Rng(deriveSeed(77, `check/${i}`)));
      const toks = await teacherForcedTokens(gen, enc.tokens, enc.labels, 0.7, rngs);
      const x = Float32Array.from(val.read(Int32Array.from({ length: val.n }, (_, i) => i)).x, (v) => v / 127.5 - 1);
      const mseParent = decodedMse(parent, toks, x, enc.n, 16);
      const mseChild = decodedMse(child, toks, x, enc.n, 16);
      expect(mseChild).toBeLessThan(0.9 * mseParent);
    } finally {
      parent.dispose();
      child.dispose();
      gen.dispose();
      ds.close();
    }

    const names = r.scores.map((s) => s.metric);
    expect(names).toEqual(expect.arrayContaining(['posttrain/psnr_before', 'posttrain/psnr_after', 'posttrain/gen_mse_before', 'posttrain/gen_mse_after']));
    const score = (m: string) => r.scores.find((s) => s.metric === m)!;
    expect(score('posttrain/gen_mse_after').value).toBeLessThan(score('posttrain/gen_mse_before').value);
    expect(score('posttrain/psnr_after').provenance).toMatchObject({ split: 'val', n: 9, seed: 1, sigma: 0.7, parentTokenizerRun: 'runs/1', generatorRun: 'runs/2', steps: 6 });
    const loss = r.metrics.filter((m) => m.name === 'posttrain/loss');
    expect(loss.length).toBeGreaterThan(0);
    expect(r.metrics.some((m) => m.name === 'posttrain/recon')).toBe(true);
    expect(loss[loss.length - 1].value).toBeLessThan(loss[0].value);
    expect(r.progress[r.progress.length - 1]).toEqual({ done: 6, total: 6 });
  });

  it('refuses a generator trained on another tokenizer', async () => {
    const r = recorder(h.home, 'runs/21');
    const other = path.join(h.home, 'runs/1b');
    fs.cpSync(path.join(h.home, h.tokRel), other, { recursive: true });
    await expect(posttrain({ tokenizerRunDir: 'runs/1b', generatorRunDir: h.genRel }, r.ctx)).rejects.toThrow(/trained on the tokens of runs\/1/);
  });

  it('stops when cancelled without leaking tensors', async () => {
    const r = recorder(h.home, 'runs/22');
    r.abort.abort();
    const before = tf.memory().numTensors;
    await expect(posttrain({ tokenizerRunDir: h.tokRel, generatorRunDir: h.genRel, batchSize: 8 }, r.ctx)).rejects.toBeInstanceOf(JobCancelled);
    expect(tf.memory().numTensors).toBe(before);
  });
});
