// The Datasets page's reading of a dataset's stored report (renderer/src/lib/dataset-meta.ts):
// class names line up with counts and per-class previews; old or partial meta does not break it.
import { describe, expect, it } from 'vitest';
import type { Dataset } from '../../preload/contract';
import { datasetReport } from '../../renderer/src/lib/dataset-meta';

const base: Dataset = { id: 1, name: 'd', kind: 'imagefolder', source: '/x', resolution: 16, channels: 3, numClasses: 3, trainN: 15, valN: 3, runId: 2, meta: {}, createdAt: '' };

describe('datasetReport', () => {
  it('pairs classes with their counts and preview strips (previews[0] is the overview grid)', () => {
    const r = datasetReport({
      ...base,
      meta: {
        classes: ['blue', 'green', 'red'],
        classCounts: { train: [6, 4, 5], val: [1, 1, 1] },
        previews: ['datasets/d/preview.png', 'datasets/d/preview-class-0.png', 'datasets/d/preview-class-1.png', 'datasets/d/preview-class-2.png'],
        skipped: [{ file: 'green/broken.png', reason: 'could not decode' }],
        skippedCount: 3,
        resize: 'sharp lanczos3',
      },
    });
    expect(r.classes).toEqual([
      { name: 'blue', train: 6, val: 1, preview: 'datasets/d/preview-class-0.png' },
      { name: 'green', train: 4, val: 1, preview: 'datasets/d/preview-class-1.png' },
      { name: 'red', train: 5, val: 1, preview: 'datasets/d/preview-class-2.png' },
    ]);
    expect(r.totals).toEqual({ train: 15, val: 3 });
    expect(r.grid).toBe('datasets/d/preview.png');
    expect(r.skipped).toEqual([{ file: 'green/broken.png', reason: 'could not decode' }]);
    expect(r.skippedCount).toBe(3); // more were skipped than the result carries
    expect(r.resize).toBe('sharp lanczos3');
  });

  it('fills in what an older or partial meta lacks', () => {
    const r = datasetReport({ ...base, numClasses: 2, meta: { classCounts: { train: [3] } } });
    expect(r.classes).toEqual([
      { name: 'class 0', train: 3, val: 0, preview: null },
      { name: 'class 1', train: 0, val: 0, preview: null },
    ]);
    expect([r.grid, r.skippedCount, r.resize]).toEqual([null, 0, '—']);
  });
});
