// Spec of the dataset-build job (built-in shapes, MNIST, or an ImageFolder import) and its validator.
// Pure TypeScript plus node:fs (for the folder check), so the host can refuse a bad spec before queueing.
import { statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { SpecError, asObject, num, str } from './errors';

export type DatasetSource = 'shapes' | 'mnist' | 'folder';
export const DATASET_SOURCES: readonly DatasetSource[] = ['shapes', 'mnist', 'folder'];
export const DATASET_RESOLUTIONS = [16, 32, 64] as const;
/** ImageFolders may also be imported at the sizes tokenizers trained elsewhere take (evaluated through ONNX). */
export const FOLDER_RESOLUTIONS = [16, 32, 64, 128, 256] as const;

export interface DatasetBuildSpec {
  source: DatasetSource;
  /** Absolute path of the ImageFolder root (source 'folder' only). */
  folder?: string;
  name: string;
  resolution: 16 | 32 | 64 | 128 | 256;
  /** Default 3, except MNIST: 1. After validation always set. */
  channels?: 1 | 3;
  /** Shapes only (defaults 10000 / 1000). */
  trainCount?: number;
  valCount?: number;
  /** Share of each class held out for validation (folder and MNIST); default 0.1. A folder may use 1: every image is held out (an evaluation set). */
  valShare: number;
  seed: number;
  /** Absolute dataset folder, filled by the host. */
  outDir: string;
}

function checkFolder(folder: string): void {
  let st;
  try {
    st = statSync(folder);
  } catch {
    throw new SpecError('folder', `"${folder}" does not exist`, 'Check the path, or choose the folder again.');
  }
  if (!st.isDirectory()) throw new SpecError('folder', `"${folder}" is a file, not a folder`, 'Choose the folder that contains one subfolder per class.');
}

export function validateDatasetBuildSpec(input: unknown): DatasetBuildSpec {
  const o = asObject(input);
  const source = str(o, 'source', 'shapes', DATASET_SOURCES);
  const name = str(o, 'name', '').trim();
  if (name.length === 0) throw new SpecError('name', 'is empty', 'Give the dataset a name, e.g. "shapes-32".');
  if (name.length > 100) throw new SpecError('name', `is ${name.length} characters long`, 'Use at most 100 characters.');
  const sizes: readonly number[] = source === 'folder' ? FOLDER_RESOLUTIONS : DATASET_RESOLUTIONS;
  const resolution = num(o, 'resolution', 32, 16, sizes[sizes.length - 1], true);
  if (!sizes.includes(resolution)) throw new SpecError('resolution', `is ${resolution}`, source === 'folder' ? `Use ${sizes.join(', ')}.` : 'Use 16, 32 or 64 (128 and 256 are for ImageFolders).');
  const channels = num(o, 'channels', source === 'mnist' ? 1 : 3, 1, 3, true);
  if (channels !== 1 && channels !== 3) throw new SpecError('channels', `is ${channels}`, 'Use 1 (grey) or 3 (RGB).');
  const valShare = num(o, 'valShare', 0.1, 0, source === 'folder' ? 1 : 0.5);
  if (source === 'folder' && valShare > 0.5 && valShare < 1) throw new SpecError('valShare', `is ${valShare}`, 'Hold out at most 0.5 of each class for training datasets, or 1 to make the whole folder an evaluation set.');
  const seed = num(o, 'seed', 0, 0, 0xffffffff, true);
  const outDir = str(o, 'outDir', '');
  if (!outDir || !isAbsolute(outDir)) throw new SpecError('outDir', `must be an absolute path, got ${JSON.stringify(outDir)}`, 'The host fills it with the dataset folder under the lab home.');
  const spec: DatasetBuildSpec = { source, name, resolution: resolution as DatasetBuildSpec['resolution'], channels, valShare, seed, outDir };
  if (source === 'shapes') {
    spec.trainCount = num(o, 'trainCount', 10000, 1, 500_000, true);
    spec.valCount = num(o, 'valCount', 1000, 0, 100_000, true);
  }
  if (source === 'folder') {
    const folder = str(o, 'folder', '').trim();
    if (!folder) throw new SpecError('folder', 'is missing', 'Choose the folder that contains one subfolder per class.');
    if (!isAbsolute(folder)) throw new SpecError('folder', `"${folder}" is a relative path`, 'Give the absolute path of the folder.');
    checkFolder(folder);
    spec.folder = folder;
  }
  return spec;
}
