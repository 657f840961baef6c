// Shared by the feature-net and eval-tokenizer tests (not a test file itself): a tiny packed dataset of
// 16×16 RGB shapes in 4 well-separated classes, train and val drawn from different seeds.
import { SHAPE_CLASSES, generateShapes } from '../../engine/data/shapes';
import { writePackedDataset } from '../../engine/data/packed';

const KEEP = [0, 4, 7, 9]; // circle, cross, stripes-horizontal, checker

function pick(count: number, seed: number, channels: 1 | 3): { x: Uint8Array; y: Int32Array } {
  const d = generateShapes({ count: Math.ceil((count * 10) / KEEP.length) + 10, seed, resolution: 16, channels });
  const per = 256 * channels;
  const x = new Uint8Array(count * per), y = new Int32Array(count);
  for (let i = 0, o = 0; o < count; i++) {
    const c = KEEP.indexOf(d.y[i]);
    if (c < 0) continue;
    x.set(d.x.subarray(i * per, (i + 1) * per), o * per);
    y[o++] = c;
  }
  return { x, y };
}

export function writeShapes(dir: string, nTrain: number, nVal: number, channels: 1 | 3 = 3): void {
  const base = { name: 'shapes16', kind: 'shapes', source: 'builtin:shapes', resolution: 16, channels, classes: KEEP.map((c) => SHAPE_CLASSES[c]), seed: 11, valShare: 0.2, skipped: [], resize: 'none', createdAt: '2024-01-01T00:00:00Z' } as const;
  writePackedDataset(dir, { ...base, classes: [...base.classes], skipped: [] }, { train: pick(nTrain, 11, channels), val: pick(nVal, 12, channels) });
}
