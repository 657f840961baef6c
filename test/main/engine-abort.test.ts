// A wasm abort no longer poisons the engine (issue "Reliability", item 6): the engine reports the job
// failed as fatal, the supervisor retires that process before the next job reaches it, and the next job
// runs on a fresh engine. Before, every later job was sent to the aborted instance and failed the same way.
import { describe, expect, it } from 'vitest';
import type { EngineRequest } from '../../engine/protocol';
import { isWasmAbort, wasmAbortMessage } from '../../engine/wasm-abort';
import type { EngineChannel } from '../../main/host/engine-channel';
import { EngineSupervisor } from '../../main/host/supervisor';

const info = { backend: 'wasm' as const, device: 'cpu (fake)', versions: {}, patchedKernels: [], notes: [] };

/** Engine n (0-based) aborts on every job when n is 0, like a poisoned wasm instance; later ones succeed. */
function fakeLauncher(): { launch: () => EngineChannel; launched: number; killed: number[] } {
  const state = { launched: 0, killed: [] as number[] };
  const launch = (): EngineChannel => {
    const n = state.launched++;
    let onMsg: (m: unknown) => void = () => {};
    let onExit: (code: number | null, signal: string | null) => void = () => {};
    let alive = true;
    setTimeout(() => onMsg({ type: 'ready', pid: 1000 + n, info }), 1);
    return {
      pid: 1000 + n,
      send: (req: EngineRequest) => {
        if (!alive || req.type !== 'start') return;
        setTimeout(() => {
          onMsg({ type: 'started', jobId: req.jobId });
          if (n === 0) onMsg({ type: 'failed', jobId: req.jobId, fatal: true, error: wasmAbortMessage(new WebAssembly.RuntimeError('Aborted(OOM)')) });
          else onMsg({ type: 'done', jobId: req.jobId, result: { engine: n } });
        }, 1);
      },
      onMessage: (cb) => (onMsg = cb),
      onExit: (cb) => (onExit = cb),
      kill: () => {
        if (!alive) return;
        alive = false;
        state.killed.push(n);
        setTimeout(() => onExit(null, 'SIGKILL'), 1);
      },
    };
  };
  return {
    launch,
    get launched() {
      return state.launched;
    },
    get killed() {
      return state.killed;
    },
  };
}

describe('a wasm abort', () => {
  it('is told apart from an ordinary job error', () => {
    expect(isWasmAbort(new WebAssembly.RuntimeError('memory access out of bounds'))).toBe(true);
    expect(isWasmAbort(new Error('Aborted(Cannot enlarge memory arrays)'))).toBe(true);
    expect(isWasmAbort(new Error('lp.delta: is 1 code'))).toBe(false);
    expect(wasmAbortMessage(new Error('Aborted(OOM)'))).toMatch(/wasm backend aborted \(Aborted\(OOM\)\).*Make them smaller.*engine restarts/);
  });

  it('retires the engine: the next job runs on a fresh one', async () => {
    const fake = fakeLauncher();
    const sup = new EngineSupervisor(fake.launch);
    const req = (jobId: number) => ({ jobId, runId: jobId, kind: 'selftest' as const, spec: {}, home: '/nonexistent', runDir: '/nonexistent/runs/x' });
    const first = await sup.run(req(1), () => {});
    expect(first.status).toBe('failed');
    expect(first.status === 'failed' && first.error).toMatch(/wasm backend aborted/);
    expect(fake.killed).toEqual([0]);
    const second = await sup.run(req(2), () => {});
    expect(second).toEqual({ status: 'done', result: { engine: 1 } });
    expect(fake.launched).toBe(2);
    expect(sup.status().restarts).toBe(1);
    await sup.stop();
  });
});
