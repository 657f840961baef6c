// Job 'dataset-build': builds a packed dataset into spec.outDir and reports its summary and previews.
import { join, relative } from 'node:path';
import { buildDataset } from '../data/build';
import type { JsonObject } from '../protocol';
import { validateDatasetBuildSpec } from '../specs/dataset-build';
import type { Job } from './types';

/** At most this many skipped files travel in the result; the manifest keeps them all. */
const MAX_SKIPPED_IN_RESULT = 200;

export const datasetBuild: Job = async (input, ctx) => {
  const spec = validateDatasetBuildSpec(input);
  ctx.log('info', `building ${spec.source} dataset "${spec.name}" at ${spec.resolution}×${spec.resolution} into ${spec.outDir}`);
  let last = { done: 0, total: 1 };
  const { manifest, previews } = await buildDataset(spec, {
    signal: ctx.signal,
    progress: (done, total, message) => {
      last = { done, total };
      ctx.progress(done, total, message);
    },
  });
  ctx.progress(last.total, last.total, 'wrote previews');
  const rel = (name: string): string => relative(ctx.home, join(spec.outDir, name)).split('\\').join('/');
  ctx.artifact('preview', rel(previews[0]), { classes: manifest.classes, perClass: previews.slice(1).map(rel) });
  if (manifest.skipped.length > 0) ctx.log('warn', `${manifest.skipped.length} file(s) skipped; see the dataset report`);
  const { train, val } = manifest.splits;
  const result: JsonObject = {
    name: manifest.name,
    kind: manifest.kind,
    source: manifest.source,
    resolution: manifest.resolution,
    channels: manifest.channels,
    classes: manifest.classes,
    train: train.n,
    val: val.n,
    classCounts: { train: train.classCounts, val: val.classCounts },
    skipped: manifest.skipped.slice(0, MAX_SKIPPED_IN_RESULT).map((s) => ({ file: s.file, reason: s.reason })),
    skippedCount: manifest.skipped.length,
    resize: manifest.resize,
    dir: spec.outDir,
    previews: previews.map(rel),
  };
  return result;
};
