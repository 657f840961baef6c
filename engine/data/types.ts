// The packed dataset format shared by the dataset builder (writer) and every training job (reader).
// Layout of datasets/<id>/: manifest.json + one uint8 image file and one label file per split.

export type DatasetKind = 'shapes' | 'mnist' | 'imagefolder';
export type SplitName = 'train' | 'val';

export interface SplitInfo {
  n: number;
  /** File name in the dataset folder: raw uint8, row-major [n, H, W, C] (NHWC). */
  images: string;
  /** File name: raw little-endian int32 [n]. */
  labels: string;
  /** Images per class, index = class id. */
  classCounts: number[];
}

export interface SkippedFile {
  file: string;
  reason: string;
}

export interface DatasetManifest {
  format: 'toklab-packed-v1';
  name: string;
  kind: DatasetKind;
  /** Where it came from: 'builtin:shapes', 'builtin:mnist' or the imported folder path. */
  source: string;
  resolution: number;
  channels: 1 | 3;
  classes: string[];
  seed: number;
  valShare: number;
  splits: Record<SplitName, SplitInfo>;
  /** Files an import could not use (corrupt, truncated, unsupported), never fatal. */
  skipped: SkippedFile[];
  /** How images were resized, named for the report (e.g. 'sharp lanczos3, centre crop'). */
  resize: string;
  createdAt: string;
}

/** One batch as the trainers consume it. */
export interface Batch {
  /** Float32 NHWC in [-1, 1], length n·H·W·C. */
  x: Float32Array;
  /** Class ids, length n. */
  y: Int32Array;
  n: number;
  /** Indices into the split, for reproducibility and reports. */
  indices: Int32Array;
}

export interface BatchOptions {
  batchSize: number;
  seed: number;
  shuffle?: boolean;
  /** Random horizontal flips (seeded). */
  flip?: boolean;
  dropLast?: boolean;
  /** Use only the first `limit` items of the split (after nothing else); for tiny runs and evals. */
  limit?: number;
}
