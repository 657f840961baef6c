// wasm BatchMatMul/_FusedMatMul with transposeA/transposeB run 10–35× slower than an explicit
// transpose followed by the plain kernel (STACK.md), and every matMul gradient uses a transposed
// form. This wraps the stock kernel: transpose the flagged operand(s), then call it untransposed.
import { tf } from '../tf';
import { asBackend, callKernel, release } from './util';
import type { KernelConfig, KernelFunc, TensorInfo } from './util';

const wrapped = new WeakSet<KernelFunc>();

/** [..., m, n] → [..., n, m] on the backend, as a new tensor the caller releases. */
function swapLastTwo(backendName: string, backend: unknown, t: TensorInfo): TensorInfo {
  const r = t.shape.length;
  const perm = [...Array(r).keys()];
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return callKernel(tf.Transpose, backendName, asBackend(backend), { x: t }, { perm });
}

/** The stock kernel config with its kernelFunc wrapped; setupFunc kept so re-selecting the backend re-binds it. */
export function explicitTransposeMatMul(orig: KernelConfig): KernelConfig {
  if (wrapped.has(orig.kernelFunc)) return orig;
  const inner = orig.kernelFunc;
  const kernelFunc: KernelFunc = ({ inputs, backend, attrs }) => {
    const { transposeA, transposeB } = (attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean };
    if (!transposeA && !transposeB) return inner({ inputs, backend, attrs });
    const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
    const temps: TensorInfo[] = [];
    try {
      const a2 = transposeA ? swapLastTwo(orig.backendName, backend, a) : a;
      if (transposeA) temps.push(a2);
      const b2 = transposeB ? swapLastTwo(orig.backendName, backend, b) : b;
      if (transposeB) temps.push(b2);
      return inner({
        inputs: { ...inputs, a: a2, b: b2 },
        backend,
        attrs: { ...attrs, transposeA: false, transposeB: false },
      });
    } finally {
      release(asBackend(backend), ...temps);
    }
  };
  wrapped.add(kernelFunc);
  return { ...orig, kernelFunc };
}

export function isExplicitTransposeWrapped(config: KernelConfig | undefined): boolean {
  return config != null && wrapped.has(config.kernelFunc);
}
