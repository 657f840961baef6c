// The lab feature network: trains on a tiny shapes dataset well above chance, its id is a pure function
// of seed-determined weights, its cached statistics match a fresh embedding, FID(real, real) ≈ 0, no leaks.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../engine/tf';
import { initBackend } from '../../engine/backend';
import { openPackedDataset, u8ToUnit } from '../../engine/data/packed';
import { writeShapes } from './feature-net-data';
import { embedSplit, featureNetDir, loadFeatureNet, readFeatureNetMeta, realStats } from '../../engine/features';
import { DEFAULT_FEATURE_NET, FeatureNet, featureNetArch, featureNetId } from '../../engine/models/feature-net';
import type { SelfTestResult } from '../../engine/metrics/self-test';

const D = DEFAULT_FEATURE_NET.featureDim;
import { featureStats, fidFromStats } from '../../engine/metrics/fid';
import { inceptionScore } from '../../engine/metrics/inception-score';
import { trainFeatureNet } from '../../engine/jobs/train-feature-net';
import { validateTrainFeatureNetSpec } from '../../engine/specs/train-feature-net';
import { varsToArrays } from '../../engine/train/checkpoint';
import { recordingContext } from './job-context';

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'toklab-featnet-'));
const dsDir = path.join(home, 'datasets', 'shapes16');

const ctxFor = (name: string) => recordingContext(home, name);

beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
  writeShapes(dsDir, 600, 200);
});
afterAll(async () => {
  fs.rmSync(home, { recursive: true, force: true });
  await initBackend({ prefer: 'cpu' });
});

describe('train-feature-net spec', () => {
  it('fills the documented defaults and names bad fields', () => {
    expect(validateTrainFeatureNetSpec({ datasetPath: 'd' })).toEqual({
      datasetPath: 'd', minSteps: 400, maxSteps: 1500, evalEvery: 100, patience: 3, minGain: 0.005, batchSize: 64, lr: 3e-3, seed: 0,
      data: 'auto', augment: 'auto', holdout: 0.1, trainLimit: 0, selfTest: true, workers: 0,
    });
    expect(() => validateTrainFeatureNetSpec({})).toThrow(/datasetPath/);
    expect(() => validateTrainFeatureNetSpec({ datasetPath: 'd', maxSteps: 0 })).toThrow(/maxSteps/);
    expect(() => validateTrainFeatureNetSpec({ datasetPath: 'd', minSteps: 500, maxSteps: 100 })).toThrow(/maxSteps.*below minSteps/);
    expect(() => validateTrainFeatureNetSpec({ datasetPath: 'd', data: 'val' })).toThrow(/data/);
  });
});

describe('feature network', () => {
  it('asks for training when the dataset has none', () => {
    expect(() => loadFeatureNet(dsDir)).toThrow(/train the feature network first/);
    expect(() => realStats(dsDir, 'val')).toThrow(/train the feature network first/);
  });

  it('the id hashes architecture and weights: equal for one seed, different for another or a changed weight', () => {
    const arch = featureNetArch(16, 3, 10);
    const ids = [0, 0, 1].map((seed) => {
      const net = new FeatureNet(arch, seed);
      const id = featureNetId(arch, varsToArrays(net.params));
      net.dispose();
      return id;
    });
    expect(ids[0]).toMatch(/^[0-9a-f]{16}$/);
    expect(ids[1]).toBe(ids[0]);
    expect(ids[2]).not.toBe(ids[0]);
    const net = new FeatureNet(arch, 0);
    const w = varsToArrays(net.params);
    w['head.b'].data[0] += 1e-6;
    expect(featureNetId(arch, w)).not.toBe(ids[0]);
    expect(featureNetId({ ...arch, featureDim: 65 }, varsToArrays(net.params))).not.toBe(ids[0]);
    net.dispose();
  });

  it('training is deterministic from the seed (same id twice) and another seed gives another id; statistics on 2 workers are the same', async () => {
    const quick = { datasetPath: 'datasets/shapes16', minSteps: 0, maxSteps: 12, evalEvery: 6, trainLimit: 64, batchSize: 32, selfTest: false };
    const a = await trainFeatureNet({ ...quick, seed: 3 }, ctxFor('q1').ctx);
    const b = await trainFeatureNet({ ...quick, seed: 3, workers: 1 }, ctxFor('q2').ctx);
    const statFiles = ['stats-train.features.npy', 'stats-train.mu.npy', 'stats-train.sigma.npy', 'stats-val.features.npy', 'stats-val.sigma.npy'];
    const stats = () => statFiles.map((f) => fs.readFileSync(path.join(featureNetDir(dsDir), f)));
    const oneThread = stats();
    // the splits' statistics embedded batch by batch on 2 evaluation workers: byte for byte the same files
    const w = ctxFor('q2w');
    const b2 = await trainFeatureNet({ ...quick, seed: 3, workers: 2 }, w.ctx);
    expect(b2.extractorId).toBe(b.extractorId);
    expect(stats()).toEqual(oneThread);
    expect(w.rec.progress.at(-1)).toBe(800);
    const c = await trainFeatureNet({ ...quick, seed: 4 }, ctxFor('q3').ctx);
    expect(b.extractorId).toBe(a.extractorId);
    expect(c.extractorId).not.toBe(a.extractorId);
  });

  it('trains well above chance, writes meta + statistics, reports metrics and a scored test accuracy, leaks nothing', async () => {
    const { ctx, rec } = ctxFor('full');
    const before = tf.memory().numTensors;
    const res = await trainFeatureNet({ datasetPath: 'datasets/shapes16', minSteps: 0, maxSteps: 150, evalEvery: 30, patience: 2, batchSize: 32, lr: 3e-3, seed: 0 }, ctx);
    expect(tf.memory().numTensors).toBe(before);
    expect(res.featureDim).toBe(D);
    expect(Number(res.testAccuracy)).toBeGreaterThan(0.8); // chance is 0.25
    const meta = readFeatureNetMeta(dsDir);
    // 4 classes (not the 10 built-in shapes): trains on the split minus a 10 % held-out share, with shifts
    expect(meta).toMatchObject({ id: res.extractorId, featureDim: D, numClasses: 4, testAccuracy: res.testAccuracy, seed: 0, steps: res.steps, trainedOn: { dataset: 'datasets/shapes16', split: 'train', n: 540, source: 'split', augment: 'shift' } });
    expect(meta.heldOutAccuracy).toBeGreaterThan(0.75);
    expect(['plateau', 'budget']).toContain(meta.stoppedBy);
    const names = new Set(rec.metrics.map((m) => m.name));
    expect(names).toContain('featnet/loss');
    expect(names).toContain('featnet/val_acc');
    expect(names).toContain('featnet/heldout_acc');
    const losses = rec.metrics.filter((m) => m.name === 'featnet/loss').map((m) => m.value);
    expect(losses[losses.length - 1]).toBeLessThan(losses[0]);
    expect(rec.scores.map((s) => s.metric)).toEqual(['featnet/test_accuracy', 'featnet/selftest_passed', 'featnet/split_half_fid']);
    expect(rec.scores[0]).toEqual({ metric: 'featnet/test_accuracy', value: res.testAccuracy, provenance: expect.objectContaining({ extractorId: res.extractorId, n: 200, split: 'val', seed: 0 }) });
    // the metric self-test ran on the val split and is stored with the network
    const st = meta.selfTest as unknown as SelfTestResult;
    expect(st.n).toBe(200);
    for (const f of st.families) expect(f.monotone, `${f.kind}: ${f.fid.join(' → ')}`).toBe(true);
    expect(st.passed).toBe(true);
    expect(rec.scores[1].value).toBe(1);
    for (const f of ['meta.json', 'stats-train.json', 'stats-train.mu.npy', 'stats-train.sigma.npy', 'stats-val.json', 'stats-val.features.npy']) expect(fs.existsSync(path.join(featureNetDir(dsDir), f)), f).toBe(true);
    // nothing half-written left beside the folder
    expect(fs.readdirSync(path.dirname(featureNetDir(dsDir))).filter((f) => f.startsWith('feature-net'))).toEqual(['feature-net']);
  });

  it('loads with the recorded id; cached statistics equal a fresh embedding; FID(real, real) ≈ 0; IS of real images well above 1', () => {
    const before = tf.memory().numTensors;
    const net = loadFeatureNet(dsDir);
    expect(net.id).toBe(readFeatureNetMeta(dsDir).id);
    const ds = openPackedDataset(dsDir);
    const val = ds.split('val');
    const feats = embedSplit(net.embed, val, D);
    const real = realStats(dsDir, 'val');
    expect([real.n, real.d, real.extractorId]).toEqual([200, D, net.id]);
    let maxDiff = 0;
    for (let i = 0; i < feats.length; i++) maxDiff = Math.max(maxDiff, Math.abs(feats[i] - real.feats[i]));
    expect(maxDiff).toBeLessThan(1e-4);
    const fresh = featureStats(feats, 200, D);
    const self = fidFromStats(real, fresh).fid;
    expect(Math.abs(self)).toBeLessThan(1e-6 * (1 + Math.abs(fidFromStats(real, realStats(dsDir, 'train')).fid)));
    // train vs val of the same distribution: small next to real vs pure noise
    const noise = Float32Array.from({ length: 200 * 16 * 16 * 3 }, (_, i) => Math.sin(i * 12.9898) * 0.999);
    const noiseFid = fidFromStats(real, featureStats(net.embed(noise, 200).feats, 200, D)).fid;
    const trainFid = fidFromStats(real, realStats(dsDir, 'train')).fid;
    expect(trainFid).toBeLessThan(noiseFid / 5);
    const { probs } = net.embed(u8ToUnit(val.read(Array.from({ length: 100 }, (_, i) => i)).x), 100);
    expect(inceptionScore(probs, 100, 4, 1).mean).toBeGreaterThan(1.5); // 1 = no confidence, 4 = certain and balanced
    ds.close();
    net.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
