// Conv2DBackpropInput for wasm (conv2d's input gradient and conv2dTranspose's forward). The stock
// kernel is a slow loop (≈10× the forward conv); this one is the textbook identity
// dx = zero-insert(dy, stride) ⊛ rot180(W)ᵀ with "full" padding, run on wasm's fast Conv2D.
import { tf } from '../tf';
import { cpuFallback } from './cpu-fallback';
import { asBackend, callKernel, release } from './util';
import type { BackendLike, ConvGradAttrs, KernelConfig, KernelFunc, TensorInfo } from './util';

const B = 'wasm';

interface Attrs extends ConvGradAttrs {
  inputShape: [number, number, number, number];
}

const nchwFallback = cpuFallback(tf.Conv2DBackpropInput);

/** Inserts s−1 zeros after every row of [N,h,w,C] along axis 1 → [N,h·s,w,C], via reshape + pad. */
function zeroInsertRows(backend: BackendLike, t: TensorInfo, s: number, temps: TensorInfo[]): TensorInfo {
  const [n, h, w, c] = t.shape;
  const r = callKernel(tf.Reshape, B, backend, { x: t }, { shape: [n, h, 1, w * c] });
  temps.push(r);
  const p = callKernel(tf.PadV2, B, backend, { x: r }, { paddings: [[0, 0], [0, 0], [0, s - 1], [0, 0]], constantValue: 0 });
  temps.push(p);
  const out = callKernel(tf.Reshape, B, backend, { x: p }, { shape: [n, h * s, w, c] });
  temps.push(out);
  return out;
}

/** Same along axis 2: [N,h,w,C] → [N,h,w·s,C]. */
function zeroInsertCols(backend: BackendLike, t: TensorInfo, s: number, temps: TensorInfo[]): TensorInfo {
  const [n, h, w, c] = t.shape;
  const r = callKernel(tf.Reshape, B, backend, { x: t }, { shape: [n * h, w, 1, c] });
  temps.push(r);
  const p = callKernel(tf.PadV2, B, backend, { x: r }, { paddings: [[0, 0], [0, 0], [0, s - 1], [0, 0]], constantValue: 0 });
  temps.push(p);
  const out = callKernel(tf.Reshape, B, backend, { x: p }, { shape: [n, h, w * s, c] });
  temps.push(out);
  return out;
}

const conv2dBackpropInput: KernelFunc = (args) => {
  const attrs = args.attrs as unknown as Attrs;
  if (attrs.dataFormat === 'NCHW') return nchwFallback(args);
  const backend = asBackend(args.backend);
  const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
  const info = tf.backend_util.computeConv2DInfo(
    attrs.inputShape,
    filter.shape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  const [, inH, inW] = attrs.inputShape;
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw } = info;
  const temps: TensorInfo[] = [];
  try {
    // [B,oh,ow,Cout] → [B,oh·sh,ow·sw,Cout]; the trailing s−1 zero rows/cols count as bottom/right padding.
    let d = dy;
    if (sh > 1) d = zeroInsertRows(backend, d, sh, temps);
    if (sw > 1) d = zeroInsertCols(backend, d, sw, temps);
    const [, hz, wz] = d.shape;
    // "Full" correlation pads so that the valid output is exactly [inH, inW].
    let top = kh - 1 - info.padInfo.top;
    let left = kw - 1 - info.padInfo.left;
    let bottom = inH + kh - 1 - hz - top;
    let right = inW + kw - 1 - wz - left;
    if (top < 0 || bottom < 0 || left < 0 || right < 0) {
      // Rows the forward conv never read (large explicit pads): crop instead of padding.
      const ct = Math.max(0, -top);
      const cl = Math.max(0, -left);
      const size = [d.shape[0], hz - ct - Math.max(0, -bottom), wz - cl - Math.max(0, -right), d.shape[3]];
      d = callKernel(tf.Slice, B, backend, { x: d }, { begin: [0, ct, cl, 0], size });
      temps.push(d);
      [top, bottom, left, right] = [top, bottom, left, right].map((v) => Math.max(0, v));
    }
    // [kh,kw,Cin,Cout] → rot180 → [kh,kw,Cout,Cin]
    const flipped = callKernel(tf.Reverse, B, backend, { x: filter }, { dims: [0, 1] });
    temps.push(flipped);
    const wT = callKernel(tf.Transpose, B, backend, { x: flipped }, { perm: [0, 1, 3, 2] });
    temps.push(wT);
    // [B,hz',wz',Cout] ⊛ [kh,kw,Cout,Cin] → [B,inH,inW,Cin]
    return callKernel(
      tf.Conv2D,
      B,
      backend,
      { x: d, filter: wT },
      {
        strides: [1, 1],
        pad: [[0, 0], [top, bottom], [left, right], [0, 0]],
        dataFormat: 'NHWC',
        dilations: [1, 1],
        dimRoundingMode: undefined,
      },
    );
  } finally {
    release(backend, ...temps);
  }
};

export const conv2dBackpropInputWasm: KernelConfig = {
  kernelName: tf.Conv2DBackpropInput,
  backendName: B,
  kernelFunc: conv2dBackpropInput,
};
