// ResizeNearestNeighborGrad as a scatter loop over dy, for the cpu backend: cpu 4.22 offsets dy by
// the images' batch stride, so every batch element after the first gets a wrong gradient.
// Same index rule as tfjs' forward: src = min(in−1, floor|round(dst · scale)).
import { tf } from '../tf';
import { asBackend, makeOutput, readValues } from './util';
import type { KernelConfig, KernelFunc, TensorInfo } from './util';

function sourceIndex(outSize: number, inSize: number, alignCorners: boolean): Int32Array {
  const num = alignCorners && outSize > 1 ? inSize - 1 : inSize;
  const den = alignCorners && outSize > 1 ? outSize - 1 : outSize;
  const scale = num / den;
  const idx = new Int32Array(outSize);
  for (let i = 0; i < outSize; i++) {
    const f = i * scale;
    idx[i] = Math.min(inSize - 1, alignCorners ? Math.round(f) : Math.floor(f));
  }
  return idx;
}

const resizeNearestNeighborGrad: KernelFunc = ({ inputs, backend: b, attrs }) => {
  const backend = asBackend(b);
  const { images, dy } = inputs as { images: TensorInfo; dy: TensorInfo };
  const alignCorners = Boolean((attrs as { alignCorners?: boolean }).alignCorners);
  const [batch, inH, inW, depth] = images.shape;
  const [, outH, outW] = dy.shape;
  const rows = sourceIndex(outH, inH, alignCorners);
  const cols = sourceIndex(outW, inW, alignCorners);
  const g = readValues(backend, dy);
  const dx = new Float32Array(batch * inH * inW * depth);
  let src = 0;
  for (let n = 0; n < batch; n++) {
    for (let r = 0; r < outH; r++) {
      const rowBase = (n * inH + rows[r]) * inW;
      for (let c = 0; c < outW; c++) {
        const dst = (rowBase + cols[c]) * depth;
        for (let d = 0; d < depth; d++) dx[dst + d] += g[src++];
      }
    }
  }
  return makeOutput(backend, images.shape, 'float32', dx);
};

export function resizeNearestNeighborGradConfig(backendName: string): KernelConfig {
  return { kernelName: tf.ResizeNearestNeighborGrad, backendName, kernelFunc: resizeNearestNeighborGrad };
}
