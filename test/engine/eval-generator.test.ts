// gFID job: scores for every CFG setting with full provenance, CFG 0 = conditional logits alone,
// same seed → same numbers, class balance, curve metrics, spec refusals. Stub feature net (d = 8).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../engine/tf';
import { Rng } from '../../engine/rng';
import { JobCancelled } from '../../engine/jobs/types';
import { balancedLabels, makeEvalGenerator, subsampleRows } from '../../engine/jobs/eval-generator';
import { sampleSetting, settingCfg } from '../../engine/eval/generator-batch';
import { loadGenerator } from '../../engine/models/generator-store';
import { sampleRng, sampleTokens } from '../../engine/sample';
import { validateEvalGeneratorSpec } from '../../engine/specs/eval-generator';
import { CLASSES, makeHome, recorder, stubLoader, type Home } from './eval-generator.fixture';

let h: Home;
beforeAll(async () => {
  await tf.setBackend('cpu');
  h = makeHome(fs.mkdtempSync(path.join(os.tmpdir(), 'toklab-gfid-')));
});
afterAll(() => fs.rmSync(h.home, { recursive: true, force: true }));

const NAMES = ['gen/gfid', 'gen/gkid', 'gen/is', 'gen/precision', 'gen/recall', 'gen/sample_acc'];

describe('eval-generator spec', () => {
  it('fills defaults and refuses bad settings', () => {
    const s = validateEvalGeneratorSpec({ generatorRunDir: 'runs/2' });
    expect(s).toMatchObject({ decoderRunDir: '', datasetPath: '', cfgScales: [0, 1.5, 3], schedule: 'auto', power: 1, temperature: 1, topK: 0, topP: 1, nPerClass: 50, seed: 0, batchSize: 64, minExtractorAccuracy: 0.9 });
    expect(() => validateEvalGeneratorSpec({ generatorRunDir: 'g', minExtractorAccuracy: 1.2 })).toThrow(/minExtractorAccuracy/);
    expect(() => validateEvalGeneratorSpec({})).toThrow(/generatorRunDir/);
    expect(() => validateEvalGeneratorSpec({ generatorRunDir: 'g', cfgScales: [1.5, 1.5] })).toThrow(/cfgScales/);
    expect(() => validateEvalGeneratorSpec({ generatorRunDir: 'g', cfgScales: [-1] })).toThrow(/cfgScales\[0\]/);
    expect(() => validateEvalGeneratorSpec({ generatorRunDir: 'g', nPerClass: 0 })).toThrow(/nPerClass/);
    expect(() => validateEvalGeneratorSpec({ generatorRunDir: 'g', schedule: 'linear' })).toThrow(/schedule/);
  });
});

describe('eval-generator pieces', () => {
  it('lays classes out balanced and interleaved', () => {
    const l = balancedLabels(3, 4);
    expect(Array.from(l)).toEqual([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2]);
  });

  it('subsamples distinct rows in their original order, reproducibly', () => {
    const x = Float32Array.from({ length: 20 * 2 }, (_, i) => Math.floor(i / 2));
    const a = subsampleRows(x, 20, 2, 7, new Rng(3));
    const rows = Array.from({ length: 7 }, (_, i) => a[2 * i]);
    expect(new Set(rows).size).toBe(7);
    expect([...rows].sort((p, q) => p - q)).toEqual(rows);
    expect(subsampleRows(x, 20, 2, 7, new Rng(3))).toEqual(a);
    expect(subsampleRows(x, 20, 2, 50, new Rng(3))).toEqual(x);
  });

  it('CFG 0 samples from the conditional logits alone, on the same streams as every other setting', async () => {
    const { gen } = loadGenerator(path.join(h.home, h.genRel));
    try {
      const labels = balancedLabels(CLASSES, 8);
      const opts = { schedule: 'constant' as const, power: 1, temperature: 1, topK: 0, topP: 1, seed: 5 };
      expect(settingCfg(0, opts)).toBeNull();
      expect(settingCfg(2, opts)).toEqual({ scale: 2, schedule: 'constant', power: 1 });
      const noCfg = await sampleSetting(gen, labels, 0, 24, 0, opts);
      const rngs = () => Array.from({ length: 24 }, (_, i) => sampleRng(5, i));
      expect(noCfg).toEqual(await sampleTokens({ gen, labels, rngs: rngs(), cfg: null }));
      // guidance 0 taken literally would be the unconditional model: that must differ
      const uncond = await sampleTokens({ gen, labels, rngs: rngs(), cfg: { scale: 0, schedule: 'constant', power: 1 } });
      expect(noCfg).not.toEqual(uncond);
      const g2 = await sampleSetting(gen, labels, 0, 24, 2, opts);
      expect(g2).toEqual(await sampleTokens({ gen, labels, rngs: rngs(), cfg: { scale: 2, schedule: 'constant', power: 1 } }));
      // batching does not change a sample: sample i always draws from sampleRng(seed, i)
      const parts = new Int32Array(24 * 4);
      for (let s = 0; s < 24; s += 5) parts.set(await sampleSetting(gen, labels, s, Math.min(24, s + 5), 2, opts), s * 4);
      expect(parts).toEqual(g2);
    } finally {
      gen.dispose();
    }
  });
});

describe('eval-generator job', () => {
  // the stub extractor records no test accuracy: only an explicit floor of 0 accepts it
  const spec = { generatorRunDir: 'runs/2', cfgScales: [0, 2], schedule: 'cosine-power', power: 1.2, nPerClass: 8, seed: 3, batchSize: 10, temperature: 0.9, minExtractorAccuracy: 0 };

  it('scores every CFG setting with full provenance, balanced classes and no leaked tensors', async () => {
    const log = { calls: 0, images: 0, disposed: 0 };
    const r = recorder(h.home, 'runs/10');
    const before = tf.memory().numTensors;
    const res = await makeEvalGenerator(stubLoader(log))(spec, r.ctx);
    expect(tf.memory().numTensors).toBe(before);
    expect(log.disposed).toBe(1);
    const N = CLASSES * 8;
    expect(log.images).toBe(2 * N);
    expect(res).toMatchObject({ extractorId: 'stub-extractor', scales: [0, 2], n: N, classCounts: [8, 8, 8], tokenizerRun: 'runs/1', decoderRun: 'runs/1', generatorRun: 'runs/2' });
    for (const k of ['fid', 'is', 'kid', 'precision', 'recall']) {
      const v = res[k] as number[];
      expect(v).toHaveLength(2);
      for (const x of v) expect(Number.isFinite(x)).toBe(true);
    }
    for (const x of res.precision as number[]) expect(x).toBeGreaterThanOrEqual(0);
    for (const x of res.is as number[]) expect(x).toBeGreaterThanOrEqual(1);
    expect(r.scores.map((s) => s.metric)).toEqual([...NAMES, ...NAMES]);
    const scales = [0, 2];
    r.scores.forEach((s, i) => {
      const scale = scales[Math.floor(i / NAMES.length)];
      expect(s.provenance).toMatchObject({
        extractorId: 'stub-extractor',
        n: N,
        seed: 3,
        split: 'train',
        cfg: { scale, schedule: scale === 0 ? 'none' : 'cosine-power', power: 1.2 },
        temperature: 0.9,
        topK: 0,
        topP: 1,
        generatorRun: 'runs/2',
        tokenizerRun: 'runs/1',
        decoderRun: 'runs/1',
        arch: 'raster',
      });
    });
    expect(r.scores[0].value).toBe((res.fid as number[])[0]);
    expect(r.scores[NAMES.length + 2].value).toBe((res.is as number[])[1]);
    expect(r.metrics.filter((m) => m.name === 'gen/fid_vs_cfg').map((m) => [m.step, m.value])).toEqual([
      [0, (res.fid as number[])[0]],
      [200, (res.fid as number[])[1]],
    ]);
    expect(r.metrics.filter((m) => m.name === 'gen/is_vs_cfg').map((m) => m.step)).toEqual([0, 200]);
    // one progress report per sampled batch: 3 batches of ≤ 10 per setting
    expect(r.progress).toHaveLength(6);
    expect(r.progress[5]).toEqual({ done: 2 * N, total: 2 * N });
    expect(r.artifacts.map((a) => a.path)).toEqual(['runs/10/samples/gen-no-cfg.png', 'runs/10/samples/gen-cfg-2.png']);
    expect(fs.existsSync(path.join(h.home, 'runs/10/samples/gen-cfg-2.png'))).toBe(true);
  });

  it('gives the same numbers for the same seed and different ones for another seed', async () => {
    const log = { calls: 0, images: 0, disposed: 0 };
    const run = async (seed: number, dir: string) => makeEvalGenerator(stubLoader(log))({ ...spec, seed }, recorder(h.home, dir).ctx);
    const a = await run(3, 'runs/11');
    const b = await run(3, 'runs/12');
    const c = await run(4, 'runs/13');
    for (const k of ['fid', 'is', 'kid', 'precision', 'recall']) expect(b[k]).toEqual(a[k]);
    expect(c.fid).not.toEqual(a.fid);
  });

  it('decodes with another tokenizer run when asked, and warns when it is not a post-trained child', async () => {
    const r = recorder(h.home, 'runs/14');
    const log = { calls: 0, images: 0, disposed: 0 };
    const res = await makeEvalGenerator(stubLoader(log))({ ...spec, cfgScales: [0], decoderRunDir: 'runs/1' }, r.ctx);
    expect(res.decoderRun).toBe('runs/1');
    expect(r.logs.some((l) => l.startsWith('warn') && /not post-trained/.test(l))).toBe(true);
    expect(r.scores[0].provenance.decoderRun).toBe('runs/1');
  });

  it('stops when cancelled and still frees everything', async () => {
    const r = recorder(h.home, 'runs/15');
    const log = { calls: 0, images: 0, disposed: 0 };
    r.abort.abort();
    const before = tf.memory().numTensors;
    await expect(makeEvalGenerator(stubLoader(log))(spec, r.ctx)).rejects.toBeInstanceOf(JobCancelled);
    expect(tf.memory().numTensors).toBe(before);
    expect(log.disposed).toBe(1);
    expect(r.scores).toHaveLength(0);
  });
});
