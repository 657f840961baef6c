// Installs toklab's kernels on the wasm backend so conv autoencoders and GPT transformers can
// train there (and train fast). Idempotent: a second call re-registers nothing.
import { tf } from '../tf';
import { conv2dBackpropFilterWasm } from './conv2d-backprop-filter';
import { conv2dBackpropInputWasm } from './conv2d-backprop-input';
import { cpuFallback } from './cpu-fallback';
import { resizeNearestNeighborGradConfig } from './resize-nearest-grad';
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
 * Stock wasm 4.22 kernels replaced outright. Wrong: MaxPoolGrad drops the gradient of windows whose
 * maximum is negative (cpu code instead). Slow: Conv2DBackpropInput (a plain loop, ≈10× the forward).
 */
const REPLACED: KernelConfig[] = [
  conv2dBackpropInputWasm,
  { kernelName: tf.MaxPoolGrad, backendName: WASM, kernelFunc: cpuFallback(tf.MaxPoolGrad) },
];

/** cpu 4.22's ResizeNearestNeighborGrad offsets dy by the image batch stride: wrong for batch > 1. */
const CPU_REPLACED: KernelConfig[] = [resizeNearestNeighborGradConfig('cpu')];

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
  patched.push(...replace(REPLACED));
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

/** Registers the cpu fixes; returns the names of kernels replaced. */
export function installCpuKernels(): string[] {
  return replace(CPU_REPLACED);
}

function replace(configs: KernelConfig[]): string[] {
  for (const config of configs) {
    const existing = lookup(config.kernelName, config.backendName);
    if (existing?.kernelFunc === config.kernelFunc) continue;
    if (existing != null) tf.unregisterKernel(config.kernelName, config.backendName);
    tf.registerKernel(config);
  }
  return configs.map((c) => c.kernelName);
}
