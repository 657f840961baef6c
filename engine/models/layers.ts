// Conv building blocks as plain functions over a named tf.Variable map (NHWC), seeded by engine/rng.
// Kept to ops whose gradients run on the patched wasm backend: conv2d, add/mul, moments, sigmoid, relu.
import { tf } from '../tf';
import type { Rng } from '../rng';

export type Params = Record<string, tf.Variable>;
export type Act = 'silu' | 'relu';
export type Norm = 'group' | 'none';

let scopeCounter = 0;

/** A process-unique prefix for tf variable names (tfjs refuses two variables with one name). */
export function newScope(label: string): string {
  scopeCounter += 1;
  return `${label}#${scopeCounter}`;
}

/** Adds one variable under `key` (the key is what optim/EMA/checkpoints see; tf name = scope/key). */
export function addParam(p: Params, scope: string, key: string, shape: number[], values: Float32Array, trainable = true): tf.Variable {
  if (p[key]) throw new Error(`parameter ${key} defined twice`);
  const v = tf.tidy(() => tf.variable(tf.tensor(values, shape, 'float32'), trainable, `${scope}/${key}`));
  p[key] = v;
  return v;
}

function uniform(n: number, bound: number, rng: Rng): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (rng.uniform() * 2 - 1) * bound;
  return a;
}

/** k×k conv cin→cout: He-uniform weights (bound √(6/fan_in)·gain), zero bias. */
export function initConv(p: Params, scope: string, name: string, k: number, cin: number, cout: number, rng: Rng, gain = 1): void {
  const fanIn = k * k * cin;
  addParam(p, scope, `${name}.w`, [k, k, cin, cout], uniform(k * k * cin * cout, gain * Math.sqrt(6 / fanIn), rng));
  addParam(p, scope, `${name}.b`, [cout], new Float32Array(cout));
}

/** Filter [k,k,cout,cin] for conv2dTranspose (tfjs order), fan-in taken as k²·cin / 4 for stride 2. */
export function initConvTranspose(p: Params, scope: string, name: string, k: number, cin: number, cout: number, rng: Rng): void {
  const fanIn = Math.max(1, (k * k * cin) / 4);
  addParam(p, scope, `${name}.w`, [k, k, cout, cin], uniform(k * k * cin * cout, Math.sqrt(6 / fanIn), rng));
  addParam(p, scope, `${name}.b`, [cout], new Float32Array(cout));
}

/** GroupNorm affine parameters (γ = 1, β = 0); nothing when norm is 'none'. */
export function initNorm(p: Params, scope: string, name: string, c: number, norm: Norm): void {
  if (norm === 'none') return;
  addParam(p, scope, `${name}.g`, [c], new Float32Array(c).fill(1));
  addParam(p, scope, `${name}.b`, [c], new Float32Array(c));
}

/** 'same'-padded conv; stride 2 halves H and W. [B,H,W,cin] → [B,H/s,W/s,cout] */
export function conv(p: Params, name: string, x: tf.Tensor4D, stride = 1): tf.Tensor4D {
  return tf.add(tf.conv2d(x, p[`${name}.w`] as tf.Tensor4D, stride, 'same'), p[`${name}.b`]) as tf.Tensor4D;
}

/** GroupNorm (Wu & He 2018), eps 1e-6 as in taming-transformers; identity when norm is 'none'. */
export function groupNorm(p: Params, name: string, x: tf.Tensor4D, groups: number, norm: Norm): tf.Tensor4D {
  if (norm === 'none') return x;
  const [B, H, W, C] = x.shape;
  const g = Math.min(groups, C);
  if (C % g !== 0) throw new Error(`GroupNorm ${name}: ${C} channels not divisible by ${g} groups`);
  // [B,H,W,C] → [B,H,W,G,C/G], statistics over H, W and the channels of each group
  const xr = tf.reshape(x, [B, H, W, g, C / g]);
  const { mean, variance } = tf.moments(xr, [1, 2, 4], true);
  const xn = tf.reshape(tf.div(tf.sub(xr, mean), tf.sqrt(tf.add(variance, 1e-6))), [B, H, W, C]);
  return tf.add(tf.mul(xn, p[`${name}.g`]), p[`${name}.b`]) as tf.Tensor4D;
}

export function act(x: tf.Tensor4D, kind: Act): tf.Tensor4D {
  return kind === 'relu' ? tf.relu(x) : (tf.mul(x, tf.sigmoid(x)) as tf.Tensor4D);
}

export interface BlockCfg {
  norm: Norm;
  groups: number;
  act: Act;
}

/** Residual block cin→cout (norm, act, conv3, norm, act, conv3; 1×1 skip when widths differ). */
export function initResBlock(p: Params, scope: string, name: string, cin: number, cout: number, cfg: BlockCfg, rng: Rng): void {
  initNorm(p, scope, `${name}.n1`, cin, cfg.norm);
  initConv(p, scope, `${name}.c1`, 3, cin, cout, rng);
  initNorm(p, scope, `${name}.n2`, cout, cfg.norm);
  // a small last conv keeps the block near identity at init, which matters without norms
  initConv(p, scope, `${name}.c2`, 3, cout, cout, rng, cfg.norm === 'none' ? 0.1 : 1);
  if (cin !== cout) initConv(p, scope, `${name}.skip`, 1, cin, cout, rng);
}

/** [B,H,W,cin] → [B,H,W,cout] */
export function resBlock(p: Params, name: string, x: tf.Tensor4D, cfg: BlockCfg): tf.Tensor4D {
  let h = act(groupNorm(p, `${name}.n1`, x, cfg.groups, cfg.norm), cfg.act);
  h = conv(p, `${name}.c1`, h);
  h = act(groupNorm(p, `${name}.n2`, h, cfg.groups, cfg.norm), cfg.act);
  h = conv(p, `${name}.c2`, h);
  const skip = p[`${name}.skip.w`] ? conv(p, `${name}.skip`, x) : x;
  return tf.add(skip, h) as tf.Tensor4D;
}

/** Nearest-neighbour ×2 by broadcasting (its gradient is a plain sum on every backend). [B,h,w,C] → [B,2h,2w,C] */
export function upsample2x(x: tf.Tensor4D): tf.Tensor4D {
  const [B, h, w, C] = x.shape;
  const x6 = tf.reshape(x, [B, h, 1, w, 1, C]);
  return tf.reshape(tf.mul(x6, tf.ones([1, 1, 2, 1, 2, 1])), [B, 2 * h, 2 * w, C]) as tf.Tensor4D;
}

/** sg(x): forward identity, zero gradient (tfjs has no stop_gradient op). */
const sgOp = tf.customGrad((...inputs) => ({
  value: tf.add(inputs[0] as tf.Tensor, 0),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
}));

export function stopGradient<T extends tf.Tensor>(x: T): T {
  return sgOp(x) as T;
}
