// UnsortedSegmentSum as a plain loop: the gradient of gather (embedding lookups), which the wasm
// build lacks. TF semantics: segmentIds shape S is a prefix of x's shape; ids outside
// [0, numSegments) are dropped; out[s, ...] = Σ_{i: ids[i]=s} x[i, ...].
import { tf } from '../tf';
import { asBackend, makeOutput, readValues } from './util';
import type { KernelConfig, KernelFunc, TensorInfo } from './util';

export const unsortedSegmentSum: KernelFunc = ({ inputs, backend: b, attrs }) => {
  const backend = asBackend(b);
  const { x, segmentIds } = inputs as { x: TensorInfo; segmentIds: TensorInfo };
  const numSegments = (attrs as { numSegments: number }).numSegments;
  const idRank = segmentIds.shape.length;
  for (let d = 0; d < idRank; d++) {
    if (segmentIds.shape[d] !== x.shape[d]) {
      throw new Error(`UnsortedSegmentSum: segmentIds [${segmentIds.shape}] is not a prefix of x [${x.shape}]`);
    }
  }
  const ids = readValues(backend, segmentIds);
  const xv = readValues(backend, x);
  const innerShape = x.shape.slice(idRank);
  const inner = tf.util.sizeFromShape(innerShape);
  // Float64 accumulation: many rows can land in one segment (frequent tokens).
  const acc = new Float64Array(numSegments * inner);
  for (let i = 0; i < ids.length; i++) {
    const s = ids[i];
    if (s < 0 || s >= numSegments) continue;
    const src = i * inner;
    const dst = s * inner;
    for (let j = 0; j < inner; j++) acc[dst + j] += xv[src + j];
  }
  const out = x.dtype === 'int32' ? Int32Array.from(acc) : Float32Array.from(acc);
  return makeOutput(backend, [numSegments, ...innerShape], x.dtype, out);
};

export function unsortedSegmentSumConfig(backendName: string): KernelConfig {
  return { kernelName: tf.UnsortedSegmentSum, backendName, kernelFunc: unsortedSegmentSum };
}
