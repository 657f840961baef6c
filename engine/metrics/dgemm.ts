// Float64 matrix products on onnxruntime's CPU GEMM (MLAS: AVX2/AVX-512 kernels, every core), for the
// O(n·d²) and O(d³) products of FID at d = 2,048. onnxruntime-node is already the engine's runtime
// for ONNX models; here it runs one-node Gemm graphs built in memory (engine/onnx/graph.ts). Where it
// cannot load, callers keep the TypeScript loops of linalg.ts, which give the same numbers up to the
// order of float64 sums.
import { loadOrt } from '../onnx/runtime';
import { ONNX_DOUBLE, oneNodeModel } from '../onnx/graph';
import { wantedThreads } from '../wasm-threads';
import type * as OrtTypes from 'onnxruntime-node';

export interface Dgemm {
  /** What computes the products, for provenance and the bench. */
  label: string;
  /**
   * op(A)·op(B) with op(X) = Xᵀ when asked: A is [aRows, aCols] and B [bRows, bCols], row-major.
   * Returns the [m, n] product (a new array).
   */
  gemm(a: Float64Array, aRows: number, aCols: number, b: Float64Array, bRows: number, bCols: number, transA: boolean, transB: boolean): Promise<Float64Array>;
}

let cached: Promise<Dgemm | null> | null = null;
let unavailable: string | null = null;

/** Why the fast path is off (null while it works or has not been tried). */
export function dgemmUnavailableReason(): string | null {
  return unavailable;
}

/** The onnxruntime GEMM, created once per process; null (with a reason) when onnxruntime cannot run it. */
export function onnxDgemm(): Promise<Dgemm | null> {
  if (process.env.TOKLAB_FAST_GEMM === '0') {
    unavailable = 'TOKLAB_FAST_GEMM=0';
    return Promise.resolve(null);
  }
  cached ??= create().catch((e: unknown) => {
    unavailable = e instanceof Error ? e.message.split('\n')[0] : String(e);
    return null;
  });
  return cached;
}

async function create(): Promise<Dgemm> {
  const ort = loadOrt();
  const threads = wantedThreads();
  const sessions = new Map<string, Promise<OrtTypes.InferenceSession>>();
  const session = (transA: boolean, transB: boolean): Promise<OrtTypes.InferenceSession> => {
    const key = `${transA ? 1 : 0}${transB ? 1 : 0}`;
    let s = sessions.get(key);
    if (!s) {
      const model = oneNodeModel({
        op: 'Gemm',
        inputs: [
          { name: 'A', elemType: ONNX_DOUBLE, dims: ['a0', 'a1'] },
          { name: 'B', elemType: ONNX_DOUBLE, dims: ['b0', 'b1'] },
        ],
        outputs: [{ name: 'Y', elemType: ONNX_DOUBLE, dims: ['m', 'n'] }],
        intAttrs: { transA: transA ? 1 : 0, transB: transB ? 1 : 0 },
      });
      s = ort.InferenceSession.create(model, { intraOpNumThreads: threads, interOpNumThreads: 1, executionProviders: ['cpu'], graphOptimizationLevel: 'disabled' });
      sessions.set(key, s);
    }
    return s;
  };
  const dg: Dgemm = {
    label: `onnxruntime float64 GEMM, ${threads} thread${threads === 1 ? '' : 's'}`,
    async gemm(a, aRows, aCols, b, bRows, bCols, transA, transB) {
      if (a.length !== aRows * aCols || b.length !== bRows * bCols) throw new Error(`gemm: buffers do not match [${aRows},${aCols}] and [${bRows},${bCols}]`);
      const inner = transA ? aRows : aCols;
      if ((transB ? bCols : bRows) !== inner) throw new Error(`gemm: inner dimensions differ for [${aRows},${aCols}]${transA ? 'ᵀ' : ''}·[${bRows},${bCols}]${transB ? 'ᵀ' : ''}`);
      const s = await session(transA, transB);
      // (onnxruntime-node refuses views of shared memory with "Invalid argument": pass plain arrays)
      const out = await s.run({ A: new ort.Tensor('float64', a, [aRows, aCols]), B: new ort.Tensor('float64', b, [bRows, bCols]) });
      return out.Y.data as Float64Array;
    },
  };
  // a 2×2 check: a build without the float64 Gemm kernel fails here, not in the middle of a job
  const probe = await dg.gemm(Float64Array.of(1, 2, 3, 4), 2, 2, Float64Array.of(5, 6, 7, 8), 2, 2, true, false);
  if (probe[0] !== 26 || probe[3] !== 44) throw new Error(`onnxruntime's float64 Gemm gave [${Array.from(probe).join(', ')}] for a known product`);
  return dg;
}
