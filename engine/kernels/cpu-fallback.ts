// Runs the cpu backend's implementation of a kernel for another backend: copy inputs to cpu,
// run, copy outputs back. Correct by construction; meant for kernels off the hot path
// (depthwise-conv gradients, einsum) that the wasm build does not ship.
import { tf } from '../tf';
import { asBackend, kernelOf, makeOutput, readValues, release } from './util';
import type { KernelFunc, TensorInfo } from './util';

export function cpuFallback(kernelName: string): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const cpu = asBackend(tf.findBackend('cpu'));
    if (cpu == null) throw new Error(`toklab kernels: '${kernelName}' needs the cpu backend, which is not registered`);
    const target = asBackend(backend);
    const made: TensorInfo[] = [];
    const toCpu = (t: TensorInfo | undefined | null): TensorInfo | undefined | null => {
      if (t == null) return t;
      const c = makeOutput(cpu, t.shape, t.dtype, readValues(target, t));
      made.push(c);
      return c;
    };
    // Einsum passes its operands as an array; every other kernel as named inputs.
    const cpuInputs = Array.isArray(inputs)
      ? (inputs as TensorInfo[]).map(toCpu)
      : Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, toCpu(v)]));
    try {
      const out = kernelOf(kernelName, 'cpu').kernelFunc({
        inputs: cpuInputs as tf.NamedTensorInfoMap,
        backend: cpu,
        attrs,
      });
      const outs = Array.isArray(out) ? out : [out];
      const back = outs.map((o) => {
        const copy = makeOutput(target, o.shape, o.dtype, readValues(cpu, o));
        release(cpu, o);
        return copy;
      });
      return Array.isArray(out) ? back : back[0];
    } finally {
      release(cpu, ...made);
    }
  };
}
