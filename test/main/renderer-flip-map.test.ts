// The flip-map overlay of the Tokenizers page (renderer/src/lib/flip-map.ts): its geometry must put
// every changed token on the right pixels of a grid laid out by the engine's own tileImages.
import { describe, expect, it } from 'vitest';
import { tileImages } from '../../engine/data/png';
import type { Artifact } from '../../preload/contract';
import { flipCells, gridGeometry, latestTriptych, parseFlipMap } from '../../renderer/src/lib/flip-map';

describe('flip map overlay', () => {
  it('lands each changed token on its own patch of the perturbed tile', () => {
    // 3 rows × (original | recon | perturbed) of 16×16 grey images, upscaled ×2 like the trainer's grid;
    // the perturbed image of row r carries value 10·(r+1) + token index in each 4×4 token patch (f = 4)
    const S = 16, h = 4, rows = 3;
    const imgs = new Uint8Array(3 * rows * S * S);
    for (let r = 0; r < rows; r++) {
      for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) imgs[(3 * r + 2) * S * S + y * S + x] = 10 * (r + 1) + Math.floor(y / 4) * h + Math.floor(x / 4);
    }
    const grid = tileImages(imgs, 3 * rows, S, S, 1, 3, { pad: 1, scale: 2 });
    const g = gridGeometry(grid.width, grid.height);
    expect(g).toEqual({ tile: 32, rows: 3, cols: 3, pad: 1 });
    const masks = [Array(16).fill(0), Array(16).fill(0), Array(16).fill(0)];
    masks[0][0] = 1;
    masks[1][6] = 1;
    masks[2][15] = 1;
    masks[2][9] = 1;
    const map = parseFlipMap({ epoch: 2, h, w: h, alpha: 0.5, delta: 3, includeSelf: true, selection: 'bernoulli', anchor: 'z', flipRate: 0.1, expected: 0.33, masks });
    const cells = flipCells(map, g!);
    expect(cells.length).toBe(4);
    const want = [[0, 0], [1, 6], [2, 9], [2, 15]];
    cells.forEach((c, i) => {
      const [row, t] = want[i];
      expect(c.row).toBe(row);
      expect([c.w, c.h]).toEqual([8, 8]);
      // every pixel of the cell holds that row's perturbed image at that token
      for (let y = c.y; y < c.y + c.h; y++) for (let x = c.x; x < c.x + c.w; x++) expect(grid.data[y * grid.width + x]).toBe(10 * (row + 1) + t);
    });
  });

  it('refuses sizes that are not a 3-column grid and malformed maps', () => {
    expect(gridGeometry(100, 265)).toEqual({ tile: 32, rows: 8, cols: 3, pad: 1 });
    expect(gridGeometry(101, 265)).toBeNull();
    expect(gridGeometry(100, 266)).toBeNull();
    expect(() => parseFlipMap({ h: 4, w: 4, masks: [[1, 0]] })).toThrow(/mask 0 has 2 entries/);
    expect(() => parseFlipMap({ masks: [] })).toThrow(/not a token-flip map/);
  });

  it('pairs the latest recon grid with the flip map of its epoch', () => {
    const a = (id: number, kind: string, epoch: number): Artifact => ({ id, runId: 1, kind, path: `runs/1/samples/${kind}-${epoch}`, meta: { epoch }, createdAt: '' });
    const arts = [a(1, 'recon-grid', 1), a(2, 'token-flip-map', 1), a(3, 'recon-grid', 2), a(4, 'token-flip-map', 2), a(5, 'checkpoint', 2)];
    expect(latestTriptych(arts)).toEqual({ grid: arts[2], flip: arts[3] });
    expect(latestTriptych(arts.slice(0, 3))).toEqual({ grid: arts[2], flip: null });
    expect(latestTriptych([])).toEqual({ grid: null, flip: null });
  });
});
