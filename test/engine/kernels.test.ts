// Parity of wasm (with toklab's kernels) against the stock cpu backend, forward and gradient, for
// every op a conv VQ autoencoder or a GPT needs to train; plus leak and idempotence checks.
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../engine/backend';
import { Rng, deriveSeed } from '../../engine/rng';
import { tf } from '../../engine/tf';
import type { Tensor } from '../../engine/tf';

type T = Tensor;
interface In {
  shape: number[];
  /** Integer input in [0, max) (indices, labels): closed over, never differentiated. */
  int?: number;
}
interface Case {
  name: string;
  inputs: In[];
  fn: (...xs: T[]) => T;
  /** Forward only (no gradient exists or the output is integer). */
  noGrad?: boolean;
  /** What the cpu reference runs instead of fn, where cpu's own kernel is wrong. */
  ref?: (...xs: T[]) => T;
}

const n = (...shape: number[]): In => ({ shape });
const ints = (max: number, ...shape: number[]): In => ({ shape, int: max });
type T4 = tf.Tensor4D;
type T3 = tf.Tensor3D;
type T2 = tf.Tensor2D;

function gelu(x: T): T {
  const c = Math.sqrt(2 / Math.PI);
  return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(tf.mul(c, tf.add(x, tf.mul(0.044715, tf.pow(x, 3)))))));
}

function layerNorm(x: T, g: T, b: T): T {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-5))), g), b);
}

function groupNorm(x: T, groups: number): T {
  const [B, H, W, C] = x.shape;
  const g = tf.reshape(x, [B, H, W, groups, C / groups]); // [B,H,W,C] → [B,H,W,G,C/G]
  const { mean, variance } = tf.moments(g, [1, 2, 4], true);
  return tf.reshape(tf.div(tf.sub(g, mean), tf.sqrt(tf.add(variance, 1e-6))), [B, H, W, C]);
}

/** Nearest ×2 upsampling without the resize kernels (its gradient is concat's: slices). */
function repeat2x(x: T): T {
  const [b, h, w, c] = x.shape as number[];
  const r = tf.reshape(x, [b, h, 1, w * c]); // [B,H,W,C] → [B,H,1,W·C]
  const rows = tf.reshape(tf.concat([r, r], 2), [b * 2 * h, w, 1, c]); // → [B·2H,W,1,C]
  return tf.reshape(tf.concat([rows, rows], 2), [b, 2 * h, 2 * w, c]); // → [B,2H,2W,C]
}

function causalAttention(q: T, k: T, v: T): T {
  const [, , T_, d] = q.shape as number[];
  const scores = tf.div(tf.matMul(q, k, false, true), Math.sqrt(d)); // [B,h,T,T]
  const mask = tf.linalg.bandPart(tf.ones([T_, T_]), -1, 0);
  const masked = tf.where(tf.cast(mask, 'bool'), scores, tf.fill(scores.shape, -1e9));
  return tf.matMul(tf.softmax(masked), v); // [B,h,T,d]
}

const CASES: Case[] = [
  // conv2d gradients (Conv2DBackpropFilter + Conv2DBackpropInput)
  { name: 'conv2d s1 same', inputs: [n(2, 7, 6, 3), n(3, 3, 3, 4)], fn: (x, w) => tf.conv2d(x as T4, w as T4, 1, 'same') },
  { name: 'conv2d s2 same odd width', inputs: [n(2, 8, 7, 3), n(3, 3, 3, 5)], fn: (x, w) => tf.conv2d(x as T4, w as T4, 2, 'same') },
  { name: 'conv2d s2 same k4', inputs: [n(2, 8, 8, 2), n(4, 4, 2, 3)], fn: (x, w) => tf.conv2d(x as T4, w as T4, 2, 'same') },
  { name: 'conv2d s2 valid leftover', inputs: [n(2, 9, 8, 3), n(3, 3, 3, 4)], fn: (x, w) => tf.conv2d(x as T4, w as T4, 2, 'valid') },
  { name: 'conv2d s1 valid', inputs: [n(1, 6, 5, 2), n(3, 2, 2, 3)], fn: (x, w) => tf.conv2d(x as T4, w as T4, 1, 'valid') },
  { name: 'conv2d 1x1', inputs: [n(2, 5, 5, 4), n(1, 1, 4, 6)], fn: (x, w) => tf.conv2d(x as T4, w as T4, 1, 'same') },
  { name: 'conv2d s2 1x1 (skip path)', inputs: [n(2, 6, 6, 4), n(1, 1, 4, 3)], fn: (x, w) => tf.conv2d(x as T4, w as T4, 2, 'valid') },
  {
    name: 'conv2d s2 explicit pads',
    inputs: [n(2, 7, 7, 3), n(4, 4, 3, 2)],
    fn: (x, w) => tf.conv2d(x as T4, w as T4, 2, [[0, 0], [1, 2], [0, 1], [0, 0]]),
  },
  { name: 'conv2d strides [2,1] k[4,3]', inputs: [n(2, 8, 5, 2), n(4, 3, 2, 3)], fn: (x, w) => tf.conv2d(x as T4, w as T4, [2, 1], 'same') },
  { name: 'conv1d s2 same', inputs: [n(2, 10, 3), n(3, 3, 4)], fn: (x, w) => tf.conv1d(x as T3, w as T3, 2, 'same') },
  {
    name: 'conv2dTranspose s2 same',
    inputs: [n(2, 4, 4, 5), n(4, 4, 3, 5)],
    fn: (x, w) => tf.conv2dTranspose(x as T4, w as T4, [2, 8, 8, 3], 2, 'same'),
  },
  {
    name: 'conv2dTranspose s1 valid',
    inputs: [n(2, 4, 3, 2), n(3, 3, 4, 2)],
    fn: (x, w) => tf.conv2dTranspose(x as T4, w as T4, [2, 6, 5, 4], 1, 'valid'),
  },
  {
    name: 'conv2dTranspose s2 valid k3 odd output',
    inputs: [n(2, 3, 4, 3), n(3, 3, 2, 3)],
    fn: (x, w) => tf.conv2dTranspose(x as T4, w as T4, [2, 7, 9, 2], 2, 'valid'),
  },
  {
    name: 'conv2dTranspose s[2,1] same k[4,3]',
    inputs: [n(1, 3, 5, 2), n(4, 3, 3, 2)],
    fn: (x, w) => tf.conv2dTranspose(x as T4, w as T4, [1, 6, 5, 3], [2, 1], 'same'),
  },
  {
    name: 'conv2d s1 large explicit pads (input-grad crop path)',
    inputs: [n(1, 4, 4, 2), n(2, 2, 2, 3)],
    fn: (x, w) => tf.conv2d(x as T4, w as T4, 1, [[0, 0], [3, 0], [0, 3], [0, 0]]),
  },
  {
    name: 'fused conv2d bias relu s2',
    inputs: [n(2, 6, 6, 3), n(3, 3, 3, 4), n(4)],
    fn: (x, w, b) => tf.fused.conv2d({ x: x as T4, filter: w as T4, bias: b, strides: 2, pad: 'same', activation: 'relu' }),
  },
  // depthwise gradients (cpu fallback kernels)
  { name: 'depthwise s1 same', inputs: [n(2, 6, 6, 3), n(3, 3, 3, 2)], fn: (x, w) => tf.depthwiseConv2d(x as T4, w as T4, 1, 'same') },
  { name: 'depthwise s2 valid', inputs: [n(2, 7, 7, 2), n(3, 3, 2, 1)], fn: (x, w) => tf.depthwiseConv2d(x as T4, w as T4, 2, 'valid') },
  // gather and its gradient (UnsortedSegmentSum)
  { name: 'gather axis 0 (embedding)', inputs: [n(10, 6), ints(10, 3, 5)], fn: (e, i) => tf.gather(e, i) },
  { name: 'gather axis 1', inputs: [n(4, 7, 3), ints(7, 5)], fn: (x, i) => tf.gather(x, i, 1) },
  { name: 'unsortedSegmentSum forward', inputs: [n(9, 3), ints(5, 9)], fn: (x, i) => tf.unsortedSegmentSum(x, i as tf.Tensor1D, 7) },
  // matMul: all transpose combos, rank 2, 3, 4 and broadcast batch
  ...[false, true].flatMap((ta) =>
    [false, true].flatMap((tb): Case[] => [
      {
        name: `matMul 2-D tA=${ta} tB=${tb}`,
        inputs: [ta ? n(7, 5) : n(5, 7), tb ? n(3, 7) : n(7, 3)],
        fn: (a, b) => tf.matMul(a as T2, b as T2, ta, tb),
      },
      {
        name: `matMul 3-D tA=${ta} tB=${tb}`,
        inputs: [ta ? n(2, 7, 5) : n(2, 5, 7), tb ? n(2, 3, 7) : n(2, 7, 3)],
        fn: (a, b) => tf.matMul(a as T3, b as T3, ta, tb),
      },
      {
        // forward only: tfjs' BatchMatMul gradient does not reduce broadcast batch dims (any backend)
        name: `matMul broadcast batch tA=${ta} tB=${tb}`,
        inputs: [ta ? n(3, 7, 5) : n(3, 5, 7), tb ? n(1, 4, 7) : n(1, 7, 4)],
        fn: (a, b) => tf.matMul(a as T3, b as T3, ta, tb),
        noGrad: true,
      },
      {
        name: `fused matMul bias relu tA=${ta} tB=${tb}`,
        inputs: [ta ? n(7, 5) : n(5, 7), tb ? n(3, 7) : n(7, 3), n(3)],
        fn: (a, b, bias) =>
          tf.fused.matMul({ a: a as T2, b: b as T2, transposeA: ta, transposeB: tb, bias, activation: 'relu' }),
      },
    ]),
  ),
  { name: 'matMul 4-D q·kᵀ', inputs: [n(2, 3, 4, 5), n(2, 3, 6, 5)], fn: (q, k) => tf.matMul(q, k, false, true) },
  { name: 'causal attention', inputs: [n(2, 2, 5, 4), n(2, 2, 5, 4), n(2, 2, 5, 4)], fn: causalAttention },
  { name: 'einsum bij,bjk->bik', inputs: [n(2, 3, 4), n(2, 4, 5)], fn: (a, b) => tf.einsum('bij,bjk->bik', a, b), noGrad: true },
  // pooling, resizing
  { name: 'maxPool 2 s2', inputs: [n(2, 6, 6, 3)], fn: (x) => tf.maxPool(x as T4, 2, 2, 'valid') },
  // all-negative windows: stock wasm MaxPoolGrad returned zeros there
  { name: 'maxPool 3 s2 same, negative', inputs: [n(2, 7, 7, 2)], fn: (x) => tf.maxPool(tf.sub(tf.abs(x), 5) as T4, 3, 2, 'same') },
  { name: 'avgPool 3x3 s2 same', inputs: [n(2, 7, 7, 3)], fn: (x) => tf.avgPool(x as T4, 3, 2, 'same') },
  // batch > 1: the cpu reference's own ResizeNearestNeighborGrad is wrong there, so it runs repeat2x
  { name: 'resizeNearestNeighbor ×2', inputs: [n(2, 4, 3, 3)], fn: (x) => tf.image.resizeNearestNeighbor(x as T4, [8, 6]), ref: repeat2x },
  {
    name: 'resizeNearestNeighbor ×2 alignCorners (3→6 is also a plain repeat)',
    inputs: [n(3, 3, 3, 2)],
    fn: (x) => tf.image.resizeNearestNeighbor(x as T4, [6, 6], true),
    ref: repeat2x,
  },
  // square only: the cpu reference's ResizeBilinearGrad swaps height and width
  { name: 'resizeBilinear ×2', inputs: [n(2, 4, 4, 3)], fn: (x) => tf.image.resizeBilinear(x as T4, [8, 8]) },
  // activations and elementwise
  { name: 'erf', inputs: [n(4, 5)], fn: (x) => tf.erf(x) },
  { name: 'gelu (erf form)', inputs: [n(4, 5)], fn: (x) => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.div(x, Math.SQRT2)))) },
  { name: 'gelu (tanh form)', inputs: [n(4, 5)], fn: gelu },
  { name: 'softplus', inputs: [n(4, 5)], fn: (x) => tf.softplus(x) },
  { name: 'sigmoid·tanh', inputs: [n(4, 5)], fn: (x) => tf.mul(tf.sigmoid(x), tf.tanh(x)) },
  { name: 'silu / swish', inputs: [n(4, 5)], fn: (x) => tf.mul(x, tf.sigmoid(x)) },
  { name: 'elu, leakyRelu, relu6', inputs: [n(4, 5)], fn: (x) => tf.add(tf.add(tf.elu(x), tf.leakyRelu(x, 0.2)), tf.relu6(tf.mul(x, 4))) },
  { name: 'sqrt rsqrt log exp', inputs: [n(4, 5)], fn: (x) => tf.add(tf.add(tf.sqrt(tf.add(tf.abs(x), 1)), tf.rsqrt(tf.add(tf.square(x), 1))), tf.mul(tf.log1p(tf.abs(x)), tf.exp(tf.mul(x, 0.3)))) },
  // a mask computed from a differentiated tensor fails on every backend ("no gradient for Greater"): int input
  { name: 'clip maximum minimum where', inputs: [n(4, 5), n(4, 5), ints(2, 4, 5)], fn: (a, b, m) => tf.add(tf.clipByValue(a, -0.5, 0.5), tf.where(tf.cast(m, 'bool'), tf.maximum(a, b), tf.minimum(a, b))) },
  { name: 'pow squaredDifference', inputs: [n(4, 5), n(4, 5)], fn: (a, b) => tf.add(tf.pow(tf.add(tf.abs(a), 0.5), 1.5), tf.squaredDifference(a, b)) },
  // normalisation, reductions, losses
  { name: 'layerNorm', inputs: [n(3, 4, 8), n(8), n(8)], fn: layerNorm },
  { name: 'groupNorm', inputs: [n(2, 3, 3, 6)], fn: (x) => groupNorm(x, 2) },
  { name: 'batchNorm', inputs: [n(4, 3, 3, 2), n(2), n(2), n(2), n(2)], fn: (x, m, v, o, s) => tf.batchNorm(x, m, tf.add(tf.abs(v), 0.5), o, s) },
  { name: 'l2 normalize (norm)', inputs: [n(5, 6)], fn: (x) => tf.div(x, tf.norm(x, 'euclidean', -1, true)) },
  { name: 'softmax', inputs: [n(3, 7)], fn: (x) => tf.softmax(x) },
  { name: 'logSoftmax + gather labels', inputs: [n(6, 9), ints(9, 6)], fn: (z, y) => tf.mul(tf.logSoftmax(z), tf.oneHot(y as tf.Tensor1D, 9)) },
  { name: 'softmaxCrossEntropy', inputs: [n(6, 9), ints(9, 6)], fn: (z, y) => tf.losses.softmaxCrossEntropy(tf.oneHot(y as tf.Tensor1D, 9), z) },
  { name: 'logSumExp', inputs: [n(4, 6)], fn: (x) => tf.logSumExp(x, 1) },
  { name: 'sum mean max min prod', inputs: [n(3, 4, 5)], fn: (x) => tf.stack([tf.sum(x, 0), tf.mean(x, 0), tf.max(x, 0), tf.min(x, 0), tf.prod(x, 0)]) },
  { name: 'cumsum and reverse exclusive', inputs: [n(3, 6)], fn: (x) => tf.add(tf.cumsum(x, 1), tf.cumsum(x, 1, true, true)) },
  // shape ops
  {
    name: 'concat split slice pad tile transpose',
    inputs: [n(2, 3, 4), n(2, 3, 2)],
    fn: (a, b) => {
      const c = tf.concat([a, b], 2);
      const [p, q] = tf.split(c, [2, 4], 2);
      const s = tf.slice(tf.pad(p, [[0, 0], [1, 1], [0, 2]]), [0, 1, 1], [2, 3, 3]);
      return tf.add(tf.tile(tf.transpose(s, [0, 2, 1]), [1, 1, 2]), tf.concat([q, tf.slice(q, [0, 0, 0], [2, 3, 2])], 2));
    },
  },
  { name: 'stack unstack expandDims squeeze', inputs: [n(3, 4)], fn: (x) => tf.squeeze(tf.expandDims(tf.stack(tf.unstack(x).reverse()), 0)) },
  // VQ lookups (forward, integer outputs)
  { name: 'argMin distances', inputs: [n(12, 4), n(6, 4)], fn: (z, e) => tf.argMin(tf.sub(tf.sum(tf.square(e), 1), tf.mul(2, tf.matMul(z, e, false, true))), 1), noGrad: true },
  { name: 'argMax + topk', inputs: [n(5, 8)], fn: (x) => tf.add(tf.cast(tf.argMax(x, 1), 'float32'), tf.sum(tf.topk(x, 3).values, 1)), noGrad: true },
];

function makeData(c: Case): { values: number[]; shape: number[]; int: boolean }[] {
  const rng = new Rng(deriveSeed(7, c.name));
  return c.inputs.map((s) => {
    const size = s.shape.reduce((p, d) => p * d, 1);
    const values = Array.from({ length: size }, () => (s.int ? rng.int(s.int) : rng.normal()));
    return { values, shape: s.shape, int: s.int !== undefined };
  });
}

interface Result {
  outShape: number[];
  out: Float32Array | Int32Array;
  grads: Float32Array[];
}

/** Forward value and ∂(Σ w·out)/∂inputs (w a fixed random weighting, so dy is not uniform). */
async function runOn(backend: string, c: Case, useRef = backend === 'cpu'): Promise<Result> {
  await tf.setBackend(backend);
  const fn = (useRef && c.ref) || c.fn;
  const data = makeData(c);
  let res: Result = { outShape: [], out: new Float32Array(0), grads: [] };
  tf.tidy(() => {
    const xs = data.map((d) => tf.tensor(d.values, d.shape, d.int ? 'int32' : 'float32'));
    const out = fn(...xs);
    res = { outShape: out.shape, out: out.dataSync() as Float32Array | Int32Array, grads: [] };
    if (c.noGrad) return;
    const wr = new Rng(deriveSeed(11, c.name));
    const w = tf.tensor(Array.from({ length: out.size }, () => wr.normal()), out.shape);
    const diff = data.map((d, i) => (d.int ? -1 : i)).filter((i) => i >= 0);
    const f = (...gx: T[]): T => {
      const all = xs.slice();
      diff.forEach((k, j) => (all[k] = gx[j]));
      return tf.sum(tf.mul(fn(...all), w));
    };
    res.grads = tf.grads(f)(diff.map((i) => xs[i])).map((g) => g.dataSync() as Float32Array);
  });
  return res;
}

/** max|a−b| / max(1e-6, max|b|): robust to tiny reference values. */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let num = 0;
  let den = 1e-6;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / den;
}

beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
});

describe('wasm with toklab kernels matches the cpu backend', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const ref = await runOn('cpu', c);
      const got = await runOn('wasm', c);
      expect(got.outShape).toEqual(ref.outShape);
      expect(relErr(got.out, ref.out)).toBeLessThan(1e-4);
      expect(got.grads.length).toBe(ref.grads.length);
      got.grads.forEach((g, i) => expect(relErr(g, ref.grads[i]), `grad ${i}`).toBeLessThan(1e-4));
      if (!c.noGrad) expect(ref.grads.some((g) => g.some((v) => v !== 0))).toBe(true);
    });
  }
});

describe('toklab kernels on wasm', () => {
  it('are installed: the gradients the stock wasm build cannot compute', async () => {
    const info = await initBackend({ prefer: 'wasm' });
    const expected = [
      ...['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'UnsortedSegmentSum', 'BatchMatMul', '_FusedMatMul', 'MaxPoolGrad'],
      ...['DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput'],
    ];
    for (const k of expected) {
      expect(info.patchedKernels).toContain(k);
      expect(tf.getKernel(k, 'wasm')).toBeDefined();
    }
  });

  it('leak neither tensors nor backend buffers (conv, matMul, gather, depthwise gradients)', async () => {
    await tf.setBackend('wasm');
    const x = tf.randomNormal([2, 9, 8, 3]);
    const w = tf.randomNormal([3, 3, 3, 4]);
    const e = tf.randomNormal([10, 6]);
    const idx = tf.tensor1d([1, 3, 3, 9], 'int32');
    const a = tf.randomNormal([2, 5, 7]);
    const dw = tf.randomNormal([3, 3, 3, 2]);
    const loss = (xx: T, ww: T, ee: T, aa: T, dd: T): T =>
      tf.addN([
        tf.sum(tf.conv2d(xx as T4, ww as T4, 2, 'valid')),
        tf.sum(tf.conv2d(xx as T4, ww as T4, 1, [[0, 0], [1, 2], [0, 1], [0, 0]])),
        tf.sum(tf.gather(ee, idx)),
        tf.sum(tf.matMul(aa, aa, true, false)),
        tf.sum(tf.fused.matMul({ a: aa as T3, b: aa as T3, transposeB: true, activation: 'relu' })),
        tf.sum(tf.depthwiseConv2d(xx as T4, dd as T4, 1, 'same')),
      ]);
    const step = (): void => {
      const gs = tf.grads(loss)([x, w, e, a, dw]);
      tf.dispose(gs);
    };
    step(); // warm-up: first calls may cache things
    const engineBefore = tf.memory().numTensors;
    const wasmBefore = tf.engine().backend.numDataIds();
    const cpuBefore = tf.findBackend('cpu')!.numDataIds();
    step();
    step();
    expect(tf.memory().numTensors).toBe(engineBefore);
    expect(tf.engine().backend.numDataIds()).toBe(wasmBefore);
    expect(tf.findBackend('cpu')!.numDataIds()).toBe(cpuBefore);
    tf.dispose([x, w, e, idx, a, dw]);
  });

  it('survive re-selecting the backend (setupFunc of wrapped kernels re-binds) and a second initBackend', async () => {
    const first = await initBackend({ prefer: 'wasm' });
    await tf.setBackend('cpu');
    const second = await initBackend({ prefer: 'wasm' });
    expect(tf.getBackend()).toBe('wasm');
    expect(second.patchedKernels).toEqual(first.patchedKernels);
    const again = await initBackend({ prefer: 'wasm' });
    expect(again).toBe(second);
    const c = CASES.find((k) => k.name === 'matMul 3-D tA=true tB=true')!;
    const ref = await runOn('cpu', c);
    const got = await runOn('wasm', c);
    expect(relErr(got.out, ref.out)).toBeLessThan(1e-4);
    got.grads.forEach((g, i) => expect(relErr(g, ref.grads[i])).toBeLessThan(1e-4));
  });

  it('fix cpu ResizeNearestNeighborGrad for batch > 1 once initBackend selects cpu', async () => {
    const c = CASES.find((k) => k.name === 'resizeNearestNeighbor ×2')!;
    const info = await initBackend({ prefer: 'cpu' });
    expect(info.patchedKernels).toContain('ResizeNearestNeighborGrad');
    const got = await runOn('cpu', c, false);
    const ref = await runOn('cpu', c, true);
    got.grads.forEach((g, i) => expect(relErr(g, ref.grads[i])).toBeLessThan(1e-5));
    await initBackend({ prefer: 'wasm' });
  });
});
