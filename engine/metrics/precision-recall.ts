// Improved precision and recall (Kynkäänniemi et al. 2019, NVlabs reference): a sample is covered by a
// set when it lies inside some member's k-NN ball (radius = distance to that member's k-th nearest
// other member). Exact pairwise distances, computed in row blocks; fine for N up to a few thousand.
import { gemmABt, type Features } from './linalg';

export interface PrecisionRecall {
  /** Share of generated samples inside the real manifold. */
  precision: number;
  /** Share of real samples inside the generated manifold. */
  recall: number;
  k: number;
}

const ROW_BLOCK = 256;

function rowNorms(x: Float64Array, n: number, d: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += x[i * d + j] * x[i * d + j];
    out[i] = s;
  }
  return out;
}

/** Calls fn(r0, rb, block) with squared distances block [rb, ny] between x rows r0.. and all of y. */
function distanceBlocks(x: Float64Array, nx: number, y: Float64Array, ny: number, d: number, fn: (r0: number, rb: number, block: Float64Array) => void): void {
  const nxs = rowNorms(x, nx, d), nys = rowNorms(y, ny, d);
  const g = new Float64Array(ROW_BLOCK * ny);
  for (let r0 = 0; r0 < nx; r0 += ROW_BLOCK) {
    const rb = Math.min(ROW_BLOCK, nx - r0);
    gemmABt(x.subarray(r0 * d, (r0 + rb) * d), y, rb, ny, d, g);
    for (let i = 0; i < rb; i++) {
      for (let j = 0; j < ny; j++) g[i * ny + j] = Math.max(0, nxs[r0 + i] + nys[j] - 2 * g[i * ny + j]);
    }
    fn(r0, rb, g);
  }
}

/** Squared distance from each row of x [n,d] to its k-th nearest other row. */
export function kthNeighbourRadii(x: Float64Array, n: number, d: number, k: number): Float64Array {
  const radii = new Float64Array(n);
  const best = new Float64Array(k);
  distanceBlocks(x, n, x, n, d, (r0, rb, block) => {
    for (let i = 0; i < rb; i++) {
      best.fill(Infinity);
      const row = i * n;
      for (let j = 0; j < n; j++) {
        if (j === r0 + i) continue;
        const v = block[row + j];
        if (v >= best[k - 1]) continue;
        // insertion into the sorted k smallest
        let p = k - 1;
        while (p > 0 && best[p - 1] > v) {
          best[p] = best[p - 1];
          p--;
        }
        best[p] = v;
      }
      radii[r0 + i] = best[k - 1];
    }
  });
  return radii;
}

/** Share of rows of `probe` that lie inside at least one ball (centre row of `ref`, squared radius). */
function coverage(probe: Float64Array, np: number, ref: Float64Array, nr: number, d: number, radii: Float64Array): number {
  let covered = 0;
  distanceBlocks(probe, np, ref, nr, d, (_r0, rb, block) => {
    for (let i = 0; i < rb; i++) {
      const row = i * nr;
      for (let j = 0; j < nr; j++) {
        if (block[row + j] <= radii[j]) {
          covered++;
          break;
        }
      }
    }
  });
  return covered / np;
}

export function precisionRecall(real: Features, nReal: number, fake: Features, nFake: number, d: number, k = 3): PrecisionRecall {
  if (!Number.isInteger(k) || k < 1) throw new Error(`precision/recall: k must be a positive integer, got ${k}`);
  if (nReal <= k || nFake <= k) throw new Error(`precision/recall with k = ${k} needs more than ${k} samples per side, got ${nReal} real and ${nFake} generated`);
  if (real.length !== nReal * d || fake.length !== nFake * d) throw new Error(`precision/recall: buffers do not match shapes [${nReal},${d}] and [${nFake},${d}]`);
  const r = Float64Array.from(real), f = Float64Array.from(fake);
  const realRadii = kthNeighbourRadii(r, nReal, d, k);
  const fakeRadii = kthNeighbourRadii(f, nFake, d, k);
  return {
    precision: coverage(f, nFake, r, nReal, d, realRadii),
    recall: coverage(r, nReal, f, nFake, d, fakeRadii),
    k,
  };
}
