// A lab home for the export tests, written straight into a real lab.db with the Repo API (no
// training): six finished tokenizers with pFID grids (eval-tokenizer runs with their result JSON),
// rFID and gFID scores at one protocol, a training-loss curve each, and a sample run with two
// gallery grids (PNG artifacts) on a dataset with class names.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { openDb } from '../../main/host/store/db';
import { Repo } from '../../main/host/store/repo';
import type { JsonObject } from '../../preload/contract';

export interface SeededLab {
  tokenizers: number[];
  evals: number[];
  sampleRun: number;
  /** The generator the sample run belongs to. */
  sampleGenerator: number;
}

export const SEED_X = [3, 5, 2, 8, 6, 4];
export const SEED_Y = [10, 14, 9, 20, 13, 12];

export async function seedExportLab(home: string): Promise<SeededLab> {
  const db = openDb(join(home, 'lab.db'));
  const repo = new Repo(db);
  try {
    const ds = repo.createDataset({ name: 'shapes-16', kind: 'builtin', source: 'shapes', resolution: 16, channels: 3, numClasses: 3, trainN: 100, valN: 20, runId: null, meta: { classes: ['circle', 'square', 'triangle'] }, path: 'datasets/1' });
    const alphas = [0.1, 0.5, 0.9];
    const deltas = [4, 16];
    const tokenizers: number[] = [];
    const evals: number[] = [];
    SEED_X.forEach((x, i) => {
      const t = repo.createRun({ kind: 'tokenizer', jobKind: 'train-tokenizer', name: `vq k${64 << i} & "lp"`, config: {}, seed: 0, datasetId: ds.id, appVersion: 'e2e' });
      repo.markFinished(t.id, 'done', null, {});
      repo.insertMetrics([{ runId: t.id, points: Array.from({ length: 12 }, (_, k) => ({ name: 'train/loss', step: (k + 1) * 10, value: 1 / (k + 1 + i) })) }]);
      const pfid = alphas.map((a) => deltas.map((d) => x + a * 10 + d / 8));
      const ev = repo.createRun({ kind: 'eval', jobKind: 'eval-tokenizer', name: 'eval', config: { seed: 0 }, seed: 0, parentId: t.id, appVersion: 'e2e' });
      repo.markFinished(ev.id, 'done', null, { extractorId: 'lab-e2e', extractorAccuracy: 0.97, rfid: x / 2, pfidMean: x, alphas, deltasAbs: deltas, deltasShare: deltas.map((d) => d / 64), pfid, n: 100, K: 64, seed: 0 });
      const prov: JsonObject = { extractorId: 'lab-e2e', extractorAccuracy: 0.97, n: 100, seed: 0, split: 'val', alphas, deltasAbs: deltas, deltaMode: 'abs', includeSelf: false, selection: 'bernoulli', anchor: 'z', tokenizerRun: `runs/${t.id}` };
      repo.insertScore(ev.id, 'eval/pfid_mean', x, prov);
      repo.insertScore(ev.id, 'eval/rfid', x / 2, { extractorId: 'lab-e2e', extractorAccuracy: 0.97, n: 100, seed: 0, split: 'val', tokenizerRun: `runs/${t.id}` });
      const gen = repo.createRun({ kind: 'generator', jobKind: 'train-generator', name: `raster gpt-nano on tokenizer ${t.id}`, config: {}, seed: 0, parentId: t.id, appVersion: 'e2e' });
      repo.markFinished(gen.id, 'done', null, {});
      const gev = repo.createRun({ kind: 'eval', jobKind: 'eval-generator', name: 'gFID', config: {}, seed: 0, parentId: gen.id, appVersion: 'e2e' });
      repo.markFinished(gev.id, 'done', null, {});
      repo.insertScore(gev.id, 'gen/gfid', SEED_Y[i], { extractorId: 'lab-e2e', extractorAccuracy: 0.97, n: 100, nPerClass: 10, seed: 0, split: 'train', cfg: { scale: 0, schedule: 'none', power: 1 }, temperature: 1, topK: 0, topP: 1, arch: 'raster', tokenizerRun: `runs/${t.id}`, decoderRun: `runs/${t.id}`, generatorRun: `runs/${gen.id}` });
      tokenizers.push(t.id);
      evals.push(ev.id);
    });
    // a sample run of the first generator: a grid without CFG and one with CFG 3 (3 classes × 4 seeds of 16 px)
    const genId = repo.listRuns({ kind: 'generator' }).sort((a, b) => a.id - b.id)[0].id;
    const s = repo.createRun({ kind: 'sample', jobKind: 'sample', name: 'sample', config: {}, seed: 0, parentId: genId, datasetId: ds.id, appVersion: 'e2e' });
    repo.markFinished(s.id, 'done', null, {});
    mkdirSync(join(home, 'runs', String(s.id)), { recursive: true });
    for (const [file, cfg, v] of [['gen-no-cfg.png', false, 40], ['gen-cfg-3.png', true, 200]] as const) {
      const raw = Buffer.alloc(64 * 48 * 3);
      for (let p = 0; p < raw.length; p += 3) raw.set([(p * 5 + v) % 256, v, 255 - v], p);
      writeFileSync(join(home, 'runs', String(s.id), file), await sharp(raw, { raw: { width: 64, height: 48, channels: 3 } }).png().toBuffer());
      repo.insertArtifact(s.id, 'sample-grid', `runs/${s.id}/${file}`, { setting: file, cfg, ...(cfg ? { scale: 3, schedule: 'constant' } : {}), temperature: 1, classes: [0, 1, 2], seeds: [3, 5, 8, 13] });
    }
    return { tokenizers, evals, sampleRun: s.id, sampleGenerator: genId };
  } finally {
    db.close();
  }
}
