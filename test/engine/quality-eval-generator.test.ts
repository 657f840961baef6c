// gFID job quality measures: 'auto' CFG schedule from the architecture (RAR → cosine-power), the lab
// classifier's sample accuracy per CFG scale, the extractor's accuracy in provenance and its floor.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../engine/tf';
import { balancedLabels, makeEvalGenerator, type FeatureLoader } from '../../engine/jobs/eval-generator';
import { Generator, type GeneratorConfig } from '../../engine/models/transformer';
import { writeGeneratorMeta } from '../../engine/models/generator-store';
import { saveCheckpoint, snapshotTraining } from '../../engine/train/checkpoint';
import { resolveCfgSchedule } from '../../engine/specs/eval-generator';
import { validateSampleSpec } from '../../engine/specs/sample';
import { gallerySettings } from '../../engine/jobs/sample';
import { CLASSES, makeHome, recorder, stubLoader, type Home } from './eval-generator.fixture';

let h: Home;
const RAR = 'runs/3';
beforeAll(async () => {
  await tf.setBackend('cpu');
  h = makeHome(fs.mkdtempSync(path.join(os.tmpdir(), 'toklab-gfid-q-')));
  // a RAR generator on the same tokenizer
  const dir = path.join(h.home, RAR);
  fs.mkdirSync(dir, { recursive: true });
  const cfg: GeneratorConfig = { arch: 'rar', vocabSize: 64, seqLen: 4, numClasses: CLASSES, dModel: 16, nLayers: 1, nHeads: 2, mlpRatio: 2, norm: 'layer' };
  const gen = new Generator(cfg, 4);
  writeGeneratorMeta(dir, { format: 'toklab-generator-v1', config: cfg, tokenizerRunDir: h.tokRel, grid: { h: 2, w: 2 }, seed: 4, spec: {} });
  saveCheckpoint(dir, snapshotTraining(gen.weights, null, null, 3, {}));
  gen.dispose();
});
afterAll(() => fs.rmSync(h.home, { recursive: true, force: true }));

/** The stub loader with a known test accuracy, recording every probability row the job embeds, in order. */
function loader(testAccuracy: number | null, seen: Float32Array[] = []): FeatureLoader {
  const base = stubLoader({ calls: 0, images: 0, disposed: 0 });
  return async (dir) => {
    const l = await base(dir);
    const embed = l.net.embed;
    const net = {
      ...l.net,
      ...(testAccuracy === null ? {} : { meta: { testAccuracy } }),
      embed: async (x: Float32Array, n: number) => {
        const e = await embed(x, n);
        seen.push(e.probs.slice());
        return e;
      },
    };
    return { ...l, net };
  };
}

const spec = { generatorRunDir: 'runs/2', cfgScales: [0, 2], nPerClass: 8, seed: 3, batchSize: 10 };

describe("CFG schedule 'auto'", () => {
  it('resolves from the architecture; an explicit choice is kept', () => {
    expect(resolveCfgSchedule('auto', 'rar')).toBe('cosine-power');
    expect(resolveCfgSchedule('auto', 'raster')).toBe('constant');
    expect(resolveCfgSchedule('constant', 'rar')).toBe('constant');
    expect(resolveCfgSchedule('cosine-power', 'raster')).toBe('cosine-power');
  });

  it('galleries resolve it the same way (spec default auto, power default kept at 1)', () => {
    const spec = validateSampleSpec({ generatorRunDir: 'runs/2', scales: [2] });
    expect(spec).toMatchObject({ schedule: 'auto', power: 1 });
    expect(gallerySettings(spec, 'rar').map((g) => g.cfg)).toEqual([null, { scale: 2, schedule: 'cosine-power', power: 1 }]);
    expect(gallerySettings(spec, 'raster')[1].cfg).toEqual({ scale: 2, schedule: 'constant', power: 1 });
    expect(gallerySettings({ ...spec, schedule: 'constant' }, 'rar')[1].cfg).toMatchObject({ schedule: 'constant' });
  });

  it('RAR samples with the cosine-power ramp and the raster GPT with constant guidance; provenance records the resolved schedule and arch', async () => {
    for (const [gen, want, other] of [[RAR, 'cosine-power', 'constant'], ['runs/2', 'constant', 'cosine-power']] as const) {
      const auto = recorder(h.home, `runs/q-${gen.replace('/', '')}-auto`);
      const a = await makeEvalGenerator(loader(0.95))({ ...spec, generatorRunDir: gen }, auto.ctx);
      const explicit = await makeEvalGenerator(loader(0.95))({ ...spec, generatorRunDir: gen, schedule: want }, recorder(h.home, `runs/q-${gen.replace('/', '')}-exp`).ctx);
      const wrong = await makeEvalGenerator(loader(0.95))({ ...spec, generatorRunDir: gen, schedule: other, power: 3 }, recorder(h.home, `runs/q-${gen.replace('/', '')}-oth`).ctx);
      expect(a.schedule).toBe(want);
      expect(a.arch).toBe(gen === RAR ? 'rar' : 'raster');
      expect(a.fid).toEqual(explicit.fid);
      // the guided setting really depends on the schedule (the unguided one does not)
      expect((wrong.fid as number[])[1]).not.toBe((a.fid as number[])[1]);
      expect((wrong.fid as number[])[0]).toBe((a.fid as number[])[0]);
      for (const s of auto.scores) {
        const cfg = s.provenance.cfg as { scale: number; schedule: string };
        expect(cfg.schedule, s.metric).toBe(cfg.scale === 0 ? 'none' : want);
        expect(s.provenance.arch).toBe(a.arch);
      }
    }
  });
});

describe('sample accuracy and the extractor floor', () => {
  it('gen/sample_acc per scale equals a direct count of argmax(probs) = sampled class, with the gFID provenance', async () => {
    const seen: Float32Array[] = [];
    const r = recorder(h.home, 'runs/q-acc');
    const res = await makeEvalGenerator(loader(0.95, seen))(spec, r.ctx);
    const N = CLASSES * spec.nPerClass;
    const all = new Float32Array(seen.reduce((a, p) => a + p.length, 0));
    let o = 0;
    for (const p of seen) {
      all.set(p, o);
      o += p.length;
    }
    expect(all.length).toBe(2 * N * CLASSES);
    const labels = balancedLabels(CLASSES, spec.nPerClass);
    const direct = spec.cfgScales.map((_, k) => {
      let hits = 0;
      for (let i = 0; i < N; i++) {
        const row = Array.from(all.subarray((k * N + i) * CLASSES, (k * N + i + 1) * CLASSES));
        if (row.indexOf(Math.max(...row)) === labels[i]) hits++;
      }
      return hits / N;
    });
    expect(res.sampleAcc).toEqual(direct);
    const acc = r.scores.filter((s) => s.metric === 'gen/sample_acc');
    const gfid = r.scores.filter((s) => s.metric === 'gen/gfid');
    expect(acc.map((s) => s.value)).toEqual(direct);
    acc.forEach((s, k) => expect(s.provenance).toEqual(gfid[k].provenance));
  });

  it('every score carries the extractor accuracy; KID subsets are smaller than N', async () => {
    const r = recorder(h.home, 'runs/q-prov');
    const res = await makeEvalGenerator(loader(0.95))(spec, r.ctx);
    expect(res.extractorAccuracy).toBe(0.95);
    expect(r.scores.length).toBeGreaterThan(0);
    for (const s of r.scores) expect(s.provenance.extractorAccuracy, s.metric).toBe(0.95);
    const N = CLASSES * spec.nPerClass;
    for (const s of r.scores.filter((x) => x.metric === 'gen/gkid')) {
      expect(s.provenance.kidSubsetSize).toBe(Math.floor(N / 2));
      expect(s.provenance.kidStd as number).toBeGreaterThan(0);
    }
  });

  it('refuses below the floor (default 0.9) and an extractor of unknown accuracy, before scoring anything', async () => {
    const low = recorder(h.home, 'runs/q-low');
    await expect(makeEvalGenerator(loader(0.48))(spec, low.ctx)).rejects.toThrow(
      /the feature network of datasets\/d has test accuracy 0\.48, below the floor 0\.90: FID in its feature space is not trustworthy\. Retrain it \(train-feature-net with more steps\) or lower minExtractorAccuracy\./,
    );
    expect(low.scores).toEqual([]);
    await expect(makeEvalGenerator(loader(null))(spec, recorder(h.home, 'runs/q-none').ctx)).rejects.toThrow(/records no test accuracy/);
    // a lowered floor accepts it
    const ok = await makeEvalGenerator(loader(0.48))({ ...spec, minExtractorAccuracy: 0.4 }, recorder(h.home, 'runs/q-ok').ctx);
    expect(ok.extractorAccuracy).toBe(0.48);
  });
});
