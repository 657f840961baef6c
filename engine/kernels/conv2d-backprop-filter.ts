// Conv2DBackpropFilter for wasm (missing there: conv2d, conv1d and conv2dTranspose cannot train).
// dW[p,q,c,o] = Σ_{b,i,j} xpad[b, i·s+p, j·s+q, c] · dy[b,i,j,o] is itself a convolution with the
// batch as input channels and dy as a filter dilated by the stride, so it reuses wasm's fast Conv2D.
import { tf } from '../tf';
import { cpuFallback } from './cpu-fallback';
import { asBackend, callKernel, release } from './util';
import type { ConvGradAttrs, KernelConfig, KernelFunc, TensorInfo } from './util';

const B = 'wasm';

interface Attrs extends ConvGradAttrs {
  filterShape: [number, number, number, number];
}

const nchwFallback = cpuFallback(tf.Conv2DBackpropFilter);

const conv2dBackpropFilter: KernelFunc = (args) => {
  const attrs = args.attrs as unknown as Attrs;
  if (attrs.dataFormat === 'NCHW') return nchwFallback(args);
  const backend = asBackend(args.backend);
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  const [batch, inH, inW, inC] = x.shape;
  const { outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info;
  const { filterHeight: kh, filterWidth: kw, outChannels: outC } = info;
  const { top, left } = info.padInfo;
  // Rows/cols of the padded input that the forward conv actually reads.
  const needH = (oh - 1) * sh + kh;
  const needW = (ow - 1) * sw + kw;
  const keepH = Math.min(inH, needH - top);
  const keepW = Math.min(inW, needW - left);
  const temps: TensorInfo[] = [];
  try {
    let cur = x;
    if (keepH < inH || keepW < inW) {
      // 'valid' with leftover rows: [B,H,W,C] → [B,keepH,keepW,C]
      cur = callKernel(tf.Slice, B, backend, { x: cur }, { begin: [0, 0, 0, 0], size: [batch, keepH, keepW, inC] });
      temps.push(cur);
    }
    const bottom = needH - top - keepH;
    const right = needW - left - keepW;
    if (top > 0 || bottom > 0 || left > 0 || right > 0) {
      // [B,keepH,keepW,C] → [B,needH,needW,C]
      const paddings = [[0, 0], [top, bottom], [left, right], [0, 0]];
      cur = callKernel(tf.PadV2, B, backend, { x: cur }, { paddings, constantValue: 0 });
      temps.push(cur);
    }
    // [B,needH,needW,Cin] → [Cin,needH,needW,B]: batch becomes the contraction (channel) axis.
    const xt = callKernel(tf.Transpose, B, backend, { x: cur }, { perm: [3, 1, 2, 0] });
    temps.push(xt);
    // [B,oh,ow,Cout] → [oh,ow,B,Cout]: dy becomes the filter.
    const dyt = callKernel(tf.Transpose, B, backend, { x: dy }, { perm: [1, 2, 0, 3] });
    temps.push(dyt);
    // [Cin,needH,needW,B] ⊛ [oh,ow,B,Cout] (dilation = stride) → [Cin,kh,kw,Cout]
    const dw = callKernel(
      tf.Conv2D,
      B,
      backend,
      { x: xt, filter: dyt },
      { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [sh, sw], dimRoundingMode: undefined },
    );
    temps.push(dw);
    if (dw.shape[1] !== kh || dw.shape[2] !== kw || dw.shape[3] !== outC) {
      throw new Error(`toklab Conv2DBackpropFilter: got [${dw.shape}] for filter [${attrs.filterShape}]`);
    }
    // [Cin,kh,kw,Cout] → [kh,kw,Cin,Cout]
    return callKernel(tf.Transpose, B, backend, { x: dw }, { perm: [1, 2, 0, 3] });
  } finally {
    release(backend, ...temps);
  }
};

export const conv2dBackpropFilterWasm: KernelConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: B,
  kernelFunc: conv2dBackpropFilter,
};
