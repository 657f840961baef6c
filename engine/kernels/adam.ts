// One fused Adam/AdamW update per parameter tensor: p, m, v in; p', m', v' out. The stock composition
// is ~15 elementwise kernels per tensor (each a dispatch and a fresh buffer); for the small models of
// this lab that overhead was a large share of a training step (docs/BENCHMARKS.md). The arithmetic is
// the composition's, in float32, in the same order.
import { tf } from '../tf';
import { asBackend, makeOutput, readValues } from './util';
import type { KernelConfig, KernelFunc, TensorInfo } from './util';

export const ADAM_KERNEL = 'ToklabAdam';

export interface AdamKernelAttrs {
  lr: number;
  beta1: number;
  beta2: number;
  /** 1 − β1^t and 1 − β2^t */
  bc1: number;
  bc2: number;
  eps: number;
  /** Clip factor applied to the gradient first (1 = none). */
  scale: number;
  /** Classic Adam L2: g += l2·p (0 = none). */
  l2: number;
  /** AdamW decoupled decay: the base is p·pMul (1 = none). */
  pMul: number;
}

const f = Math.fround;

export const adamKernel: KernelFunc = ({ inputs, backend: b, attrs }) => {
  const backend = asBackend(b);
  const { p, g, m, v } = inputs as { p: TensorInfo; g: TensorInfo; m: TensorInfo; v: TensorInfo };
  const a = attrs as unknown as AdamKernelAttrs;
  const P = readValues(backend, p) as Float32Array;
  const G = readValues(backend, g) as Float32Array;
  const M = readValues(backend, m) as Float32Array;
  const V = readValues(backend, v) as Float32Array;
  const n = P.length;
  if (G.length !== n || M.length !== n || V.length !== n) throw new Error(`${ADAM_KERNEL}: p, g, m, v differ in size (${n}, ${G.length}, ${M.length}, ${V.length})`);
  const p2 = new Float32Array(n), m2 = new Float32Array(n), v2 = new Float32Array(n);
  const { beta1, beta2, bc1, bc2, eps, scale, l2, pMul, lr } = a;
  const c1 = f(1 - beta1), c2 = f(1 - beta2);
  for (let i = 0; i < n; i++) {
    let gi = scale === 1 ? G[i] : f(G[i] * scale);
    if (l2 !== 0) gi = f(gi + f(P[i] * l2));
    const mi = f(f(M[i] * beta1) + f(gi * c1));
    const vi = f(f(V[i] * beta2) + f(f(gi * gi) * c2));
    const upd = f(f(mi / bc1) / f(f(Math.sqrt(f(vi / bc2))) + eps));
    const base = pMul === 1 ? P[i] : f(P[i] * pMul);
    p2[i] = base - f(upd * lr);
    m2[i] = mi;
    v2[i] = vi;
  }
  return [makeOutput(backend, p.shape, 'float32', p2), makeOutput(backend, p.shape, 'float32', m2), makeOutput(backend, p.shape, 'float32', v2)];
};

export function adamKernelConfig(backendName: string): KernelConfig {
  return { kernelName: ADAM_KERNEL, backendName, kernelFunc: adamKernel };
}

/** Whether the active backend has the fused kernel (wasm and cpu; tfjs-node keeps the composition). */
export function hasFusedAdam(): boolean {
  return tf.getKernel(ADAM_KERNEL, tf.getBackend()) != null;
}

/** Runs the fused update; the caller owns the three outputs. */
export function fusedAdam(p: tf.Tensor, g: tf.Tensor, m: tf.Tensor, v: tf.Tensor, attrs: AdamKernelAttrs): [tf.Tensor, tf.Tensor, tf.Tensor] {
  const out = tf.engine().runKernel(ADAM_KERNEL, { p, g, m, v }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
  return [out[0], out[1], out[2]];
}
