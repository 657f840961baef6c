// A worker thread of the eigensolver (engine/metrics/rotation-pool.ts): applies the recorded QL
// rotations to its range of eigenvector components, in the shared matrix.
import { parentPort } from 'node:worker_threads';
import { applyRotations } from './linalg';

export interface RotationTask {
  id: number;
  w: SharedArrayBuffer;
  n: number;
  idx: SharedArrayBuffer;
  cs: SharedArrayBuffer;
  count: number;
  k0Start: number;
  k0End: number;
}

const port = parentPort;
if (!port) throw new Error('rotation-worker runs as a worker thread');
port.on('message', (t: RotationTask) => {
  try {
    applyRotations(new Float64Array(t.w), t.n, new Int32Array(t.idx), new Float64Array(t.cs), t.count, t.k0Start, t.k0End);
    port.postMessage({ id: t.id, ok: true });
  } catch (e) {
    port.postMessage({ id: t.id, ok: false, message: e instanceof Error ? e.message : String(e) });
  }
});
