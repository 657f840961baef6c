// Installs toklab's kernels on the wasm backend so conv autoencoders and GPT transformers can
// train there (and train fast). Idempotent: a second call re-registers nothing.
import { tf } from '../tf';
import { conv2dBackpropFilterWasm } from './conv2d-backprop-filter';
import { cpuFallback } from './cpu-fallback';
import { explicitTransposeMatMul, isExplicitTransposeWrapped } from './transposed-matmul';
import { unsortedSegmentSumConfig } from './unsorted-segment-sum';
import type { KernelConfig } from './util';

const WASM = 'wasm';

/** Kernels wasm 4.22 lacks that training needs but that are off the hot path: run the cpu code. */
export const WASM_CPU_FALLBACKS = [
  tf.DepthwiseConv2dNativeBackpropFilter,
  tf.DepthwiseConv2dNativeBackpropInput,
  tf.Einsum,
] as const;

/** Kernels added because wasm has none; a stock kernel, if a later wasm ships one, is kept. */
const ADDED: KernelConfig[] = [
  conv2dBackpropFilterWasm,
  unsortedSegmentSumConfig(WASM),
  ...WASM_CPU_FALLBACKS.map((name) => ({ kernelName: name, backendName: WASM, kernelFunc: cpuFallback(name) })),
];

/**
 * Stock wasm 4.22 kernels that compute wrong gradients, replaced by the cpu code:
 * MaxPoolGrad drops the gradient of windows whose maximum is negative; ResizeNearestNeighborGrad
 * reads the wrong dy rows for every batch element after the first.
 */
export const WASM_BROKEN_REPLACED = [tf.MaxPoolGrad, tf.ResizeNearestNeighborGrad] as const;
const REPLACED: KernelConfig[] = WASM_BROKEN_REPLACED.map((name) => ({
  kernelName: name,
  backendName: WASM,
  kernelFunc: cpuFallback(name),
}));

/** Stock kernels wrapped to transpose operands explicitly. */
const WRAPPED_MATMULS = [tf.BatchMatMul, tf._FusedMatMul];

function lookup(name: string, backendName: string): KernelConfig | undefined {
  return tf.getKernel(name, backendName) as KernelConfig | undefined;
}

/** Registers the wasm kernels; returns the names of kernels added or replaced. Call after the wasm backend exists. */
export function installWasmKernels(): string[] {
  const patched: string[] = [];
  for (const config of ADDED) {
    const existing = lookup(config.kernelName, WASM);
    if (existing == null) tf.registerKernel(config);
    else if (existing.kernelFunc !== config.kernelFunc) continue;
    patched.push(config.kernelName);
  }
  for (const config of REPLACED) {
    const existing = lookup(config.kernelName, WASM);
    if (existing?.kernelFunc !== config.kernelFunc) {
      if (existing != null) tf.unregisterKernel(config.kernelName, WASM);
      tf.registerKernel(config);
    }
    patched.push(config.kernelName);
  }
  for (const name of WRAPPED_MATMULS) {
    const existing = lookup(name, WASM);
    if (existing == null) continue;
    if (!isExplicitTransposeWrapped(existing)) {
      tf.unregisterKernel(name, WASM);
      tf.registerKernel(explicitTransposeMatMul(existing));
    }
    patched.push(name);
  }
  return patched;
}
