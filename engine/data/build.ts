// Builds one packed dataset from a validated DatasetBuildSpec: generate or import, write the
// packed files, then the previews. The job in engine/jobs/dataset-build.ts is a thin wrapper.
import { mkdirSync } from 'node:fs';
import { throwIfCancelled } from '../context';
import { Rng, deriveSeed } from '../rng';
import type { DatasetBuildSpec } from '../specs/dataset-build';
import { importImageFolder } from './imagefolder';
import { loadMnist } from './mnist';
import { PACKED_FORMAT, SplitWriter, openPackedDataset, writeManifest, writePackedDataset } from './packed';
import { writePreviews } from './preview';
import { SHAPE_CLASSES, streamShapes } from './shapes';
import { stratifiedSplit } from './split';
import type { DatasetManifest } from './types';

export interface BuildHooks {
  signal: AbortSignal;
  progress?: (done: number, total: number, message?: string) => void;
}

export interface BuildResult {
  manifest: DatasetManifest;
  /** File names in the dataset folder, 'preview.png' first. */
  previews: string[];
}

function gather(x: Uint8Array, y: Int32Array, idx: Int32Array, bytes: number): { x: Uint8Array; y: Int32Array } {
  const ox = new Uint8Array(idx.length * bytes);
  const oy = new Int32Array(idx.length);
  idx.forEach((i, k) => {
    ox.set(x.subarray(i * bytes, (i + 1) * bytes), k * bytes);
    oy[k] = y[i];
  });
  return { x: ox, y: oy };
}

async function buildPacked(spec: DatasetBuildSpec, hooks: BuildHooks): Promise<DatasetManifest> {
  const channels = spec.channels ?? (spec.source === 'mnist' ? 1 : 3);
  const stop = (): void => throwIfCancelled(hooks.signal);
  const base = { name: spec.name, resolution: spec.resolution, channels, seed: spec.seed, skipped: [], createdAt: new Date().toISOString() };
  if (spec.source === 'folder') {
    if (!spec.folder) throw new Error('dataset-build: source "folder" needs spec.folder');
    return importImageFolder({
      folder: spec.folder,
      outDir: spec.outDir,
      name: spec.name,
      resolution: spec.resolution,
      channels,
      valShare: spec.valShare,
      seed: spec.seed,
      onProgress: hooks.progress,
      signal: hooks.signal,
    });
  }
  if (spec.source === 'shapes') {
    // Streamed to disk image by image: large counts at 64×64 need not fit in memory.
    const nTrain = spec.trainCount ?? 10000;
    const nVal = spec.valCount ?? 1000;
    const total = nTrain + nVal;
    const bytes = spec.resolution * spec.resolution * channels;
    const writers = (['train', 'val'] as const).map((s) => new SplitWriter(spec.outDir, s, bytes, SHAPE_CLASSES.length));
    try {
      writers.forEach((w, k) => {
        const offset = k === 0 ? 0 : nTrain;
        const progress = (d: number): void => hooks.progress?.(offset + d, total, 'drawing shapes');
        const opts = { count: k === 0 ? nTrain : nVal, seed: deriveSeed(spec.seed, w.split), resolution: spec.resolution, channels, shouldStop: stop, onProgress: progress };
        streamShapes(opts, (img, label) => w.append(img, label));
      });
      const [train, val] = writers.map((w) => w.finish());
      const resize = 'drawn at resolution (exact SDF shapes, 4×4 supersampled edges)';
      const manifest: DatasetManifest = {
        format: PACKED_FORMAT,
        ...base,
        kind: 'shapes',
        source: 'builtin:shapes',
        classes: [...SHAPE_CLASSES],
        valShare: total > 0 ? nVal / total : 0,
        resize,
        splits: { train, val },
      };
      writeManifest(spec.outDir, manifest);
      return manifest;
    } catch (e) {
      writers.forEach((w) => w.abort());
      throw e;
    }
  }
  const all = loadMnist({ resolution: spec.resolution, channels, shouldStop: stop, onProgress: (d, t) => hooks.progress?.(d, t, 'reading MNIST digits') });
  const bytes = spec.resolution * spec.resolution * channels;
  const split = stratifiedSplit(all.y, all.classes.length, spec.valShare, new Rng(deriveSeed(spec.seed, 'mnist:split')));
  const resize = spec.resolution === 32 ? '28×28 padded to 32×32 (centre)' : spec.resolution === 16 ? '28×28 padded to 32, 2×2 area average' : '28×28 padded to 32, nearest ×2';
  return writePackedDataset(
    spec.outDir,
    { ...base, kind: 'mnist', source: 'builtin:mnist', classes: all.classes, valShare: spec.valShare, resize },
    { train: gather(all.x, all.y, split.train, bytes), val: gather(all.x, all.y, split.val, bytes) },
  );
}

export async function buildDataset(spec: DatasetBuildSpec, hooks: BuildHooks): Promise<BuildResult> {
  mkdirSync(spec.outDir, { recursive: true });
  const manifest = await buildPacked(spec, hooks);
  throwIfCancelled(hooks.signal);
  const ds = openPackedDataset(spec.outDir);
  try {
    const previews = await writePreviews(ds);
    return { manifest, previews };
  } finally {
    ds.close();
  }
}
