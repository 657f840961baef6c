// Small helpers for writing kernels at the backend level: call another registered kernel directly
// (no engine bookkeeping, no tape), create outputs, and free intermediates.
import { tf } from '../tf';

export type TensorInfo = tf.TensorInfo;
export type KernelFunc = tf.KernelFunc;
export type KernelConfig = tf.KernelConfig;
type DataId = TensorInfo['dataId'];
type Values = Float32Array | Int32Array | Uint8Array;

/** The part of a tfjs backend our kernels touch (wasm has makeOutput, cpu has makeTensorInfo). */
export interface BackendLike {
  readSync(dataId: DataId): unknown;
  disposeData(dataId: DataId, force?: boolean): boolean;
  makeOutput?(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: Values): TensorInfo;
  makeTensorInfo?(shape: number[], dtype: tf.DataType, values?: Values): TensorInfo;
}

/** Attributes shared by the conv gradient kernels (tfjs' Conv2DBackpropFilter/Input attrs). */
export interface ConvGradAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

export function asBackend(b: unknown): BackendLike {
  return b as BackendLike;
}

export function kernelOf(name: string, backendName: string): KernelConfig {
  const k = tf.getKernel(name, backendName) as KernelConfig | undefined;
  if (k == null) throw new Error(`toklab kernels: no '${name}' kernel registered for backend '${backendName}'`);
  return k;
}

/** Runs a registered kernel's function on `backend`; the caller owns (and must release) the output. */
export function callKernel(
  name: string,
  backendName: string,
  backend: BackendLike,
  inputs: Record<string, TensorInfo>,
  attrs: Record<string, unknown> = {},
): TensorInfo {
  const out = kernelOf(name, backendName).kernelFunc({
    inputs: inputs as tf.NamedTensorInfoMap,
    backend,
    attrs: attrs as tf.NamedAttrMap,
  });
  if (Array.isArray(out)) throw new Error(`toklab kernels: '${name}' returned several outputs`);
  return out;
}

/** A new output tensor on `backend` holding `values`. */
export function makeOutput(backend: BackendLike, shape: number[], dtype: tf.DataType, values: Values): TensorInfo {
  // cpu also has a makeOutput, with another signature (values first): prefer makeTensorInfo.
  if (backend.makeTensorInfo) return backend.makeTensorInfo(shape, dtype, values);
  if (backend.makeOutput) return backend.makeOutput(shape, dtype, undefined, values);
  throw new Error('toklab kernels: backend cannot create outputs');
}

/** Frees intermediates created inside a kernel (each kernel output holds one reference). */
export function release(backend: BackendLike, ...infos: TensorInfo[]): void {
  for (const t of infos) backend.disposeData(t.dataId);
}

export function readValues(backend: BackendLike, t: TensorInfo): Values {
  const v = backend.readSync(t.dataId);
  if (v instanceof Float32Array || v instanceof Int32Array || v instanceof Uint8Array) return v;
  throw new Error(`toklab kernels: cannot read a ${t.dtype} tensor as numbers`);
}
