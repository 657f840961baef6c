// gFID through the real lab feature net (engine/features.ts, random weights written the way the
// feature-net job writes them), decoding with a post-trained decoder run: the production wiring.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../engine/tf';
import { evalGenerator } from '../../engine/jobs/eval-generator';
import { posttrain } from '../../engine/jobs/posttrain';
import { openPackedDataset } from '../../engine/data/packed';
import { embedWith, featureNetDir, writeSplitStats, type FeatureNetMeta } from '../../engine/features';
import { FeatureNet, featureNetArch, featureNetId } from '../../engine/models/feature-net';
import { saveCheckpoint, snapshotTraining, varsToArrays } from '../../engine/train/checkpoint';
import { CLASSES, makeHome, recorder, type Home } from './eval-generator.fixture';

let h: Home;
let netId: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  h = makeHome(fs.mkdtempSync(path.join(os.tmpdir(), 'toklab-gfid-net-')));
  const dsDir = path.join(h.home, h.datasetRel);
  const arch = featureNetArch(8, 1, CLASSES, { stem: 8, widths: [8, 8], groups: 4, featureDim: 6 });
  const net = new FeatureNet(arch, 5);
  const dir = featureNetDir(dsDir);
  fs.mkdirSync(dir, { recursive: true });
  saveCheckpoint(dir, snapshotTraining(net.params, null, null, 1, {}));
  netId = featureNetId(arch, varsToArrays(net.params));
  const ds = openPackedDataset(dsDir);
  const train = ds.split('train');
  const x = Float32Array.from(train.read(Int32Array.from({ length: train.n }, (_, i) => i)).x, (v) => v / 127.5 - 1);
  ds.close();
  const meta: FeatureNetMeta = { id: netId, arch, featureDim: 6, numClasses: CLASSES, testAccuracy: 0.5, trainedOn: { dataset: h.datasetRel, split: 'train', n: train.n }, seed: 5, epochs: 1 };
  fs.writeFileSync(path.join(dir, 'meta.json'), JSON.stringify(meta));
  writeSplitStats(dir, 'train', embedWith(net, x, train.n).feats, train.n, 6, netId);
  net.dispose();
});
afterAll(() => fs.rmSync(h.home, { recursive: true, force: true }));

describe('eval-generator with the lab feature net', () => {
  it('records the net id, and decodes with a post-trained child of the generator tokenizer without warnings', async () => {
    const pt = recorder(h.home, 'runs/30');
    // the random-weight net has test accuracy 0.5: the floor is lowered explicitly
    await posttrain({ tokenizerRunDir: h.tokRel, generatorRunDir: h.genRel, epochs: 1, lr: 1e-3, batchSize: 10, minExtractorAccuracy: 0 }, pt.ctx);
    const spec = { generatorRunDir: h.genRel, cfgScales: [0, 1.5], nPerClass: 4, seed: 2, batchSize: 12, minExtractorAccuracy: 0 };
    const before = tf.memory().numTensors;
    const base = recorder(h.home, 'runs/31');
    const a = await evalGenerator(spec, base.ctx);
    const child = recorder(h.home, 'runs/32');
    const b = await evalGenerator({ ...spec, decoderRunDir: 'runs/30' }, child.ctx);
    expect(tf.memory().numTensors).toBe(before);
    expect(a.extractorId).toBe(netId);
    expect(base.scores.every((s) => s.provenance.extractorId === netId && s.provenance.extractorAccuracy === 0.5)).toBe(true);
    expect(child.scores[0].provenance).toMatchObject({ decoderRun: 'runs/30', tokenizerRun: 'runs/1', extractorId: netId });
    expect(child.logs.filter((l) => l.startsWith('warn') && /post-trained/.test(l))).toEqual([]);
    // same tokens (same seeds), another decoder: the images and so the scores differ
    expect(b.fid).not.toEqual(a.fid);
  });

  it('samples on 2 evaluation workers to the numbers and preview of one thread', async () => {
    const spec = { generatorRunDir: h.genRel, cfgScales: [0, 2], nPerClass: 5, seed: 4, batchSize: 4, minExtractorAccuracy: 0 };
    const one = recorder(h.home, 'runs/40');
    const a = await evalGenerator({ ...spec, workers: 1 }, one.ctx);
    const two = recorder(h.home, 'runs/41');
    const before = tf.memory().numTensors;
    const b = await evalGenerator({ ...spec, workers: 2 }, two.ctx);
    expect(tf.memory().numTensors).toBe(before);
    expect([a.workers, b.workers]).toEqual([1, 2]);
    for (const k of ['fid', 'is', 'kid', 'precision', 'recall', 'sampleAcc']) expect(b[k], k).toEqual(a[k]);
    expect(two.scores.map((s) => [s.metric, s.value])).toEqual(one.scores.map((s) => [s.metric, s.value]));
    for (const f of ['gen-no-cfg.png', 'gen-cfg-2.png']) expect(fs.readFileSync(path.join(h.home, 'runs/41/samples', f))).toEqual(fs.readFileSync(path.join(h.home, 'runs/40/samples', f)));
  });

  it('refuses to score, or to post-train, with a feature net below the accuracy floor (default 0.9)', async () => {
    const msg = /the feature network of datasets\/d has test accuracy 0\.50, below the floor 0\.90: FID in its feature space is not trustworthy\. Retrain it .* or lower minExtractorAccuracy/;
    const r = recorder(h.home, 'runs/34');
    await expect(evalGenerator({ generatorRunDir: h.genRel, cfgScales: [0], nPerClass: 2 }, r.ctx)).rejects.toThrow(msg);
    expect(r.scores).toEqual([]);
    await expect(evalGenerator({ generatorRunDir: h.genRel, cfgScales: [0], nPerClass: 2, minExtractorAccuracy: 0.6 }, recorder(h.home, 'runs/35').ctx)).rejects.toThrow(/below the floor 0\.60/);
    await expect(posttrain({ tokenizerRunDir: h.tokRel, generatorRunDir: h.genRel, epochs: 1, lr: 1e-3, batchSize: 10 }, recorder(h.home, 'runs/36').ctx)).rejects.toThrow(msg);
  });

  it('tells the user to train the feature net when it is missing', async () => {
    const r = recorder(h.home, 'runs/33');
    fs.renameSync(featureNetDir(path.join(h.home, h.datasetRel)), path.join(h.home, 'moved'));
    try {
      await expect(evalGenerator({ generatorRunDir: h.genRel, cfgScales: [0], nPerClass: 2 }, r.ctx)).rejects.toThrow(/train the feature network first/);
    } finally {
      fs.renameSync(path.join(h.home, 'moved'), featureNetDir(path.join(h.home, h.datasetRel)));
    }
  });
});
