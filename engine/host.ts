// Engine process entry: picks the tfjs backend, then runs one job at a time on request and
// forwards its events. Spawned by the host (fork, or utilityProcess in Electron).
import { initBackend } from './backend';
import { loadJob } from './jobs';
import type { EngineEvent, EngineRequest, JsonObject } from './protocol';
import type { JobContext } from './context';
import { JobCancelled } from './context';
import { isWasmAbort, wasmAbortMessage } from './wasm-abort';

interface Port {
  post(e: EngineEvent): void;
  onRequest(cb: (r: EngineRequest) => void): void;
}

interface ParentPortLike {
  postMessage(m: unknown): void;
  on(ev: 'message', cb: (e: { data: unknown }) => void): void;
}

function connect(): Port {
  const pp = (process as unknown as { parentPort?: ParentPortLike }).parentPort;
  if (pp) return { post: (e) => pp.postMessage(e), onRequest: (cb) => pp.on('message', (e) => cb(e.data as EngineRequest)) };
  if (!process.send) throw new Error('engine/host.ts must be started by the toklab host (no IPC channel)');
  return {
    post: (e) => process.send?.(e),
    onRequest: (cb) => process.on('message', (m) => cb(m as EngineRequest)),
  };
}

const port = connect();

/**
 * The engine never outlives its host: it exits when the IPC channel closes (the host exited or was
 * killed) or when it is re-parented (the host died without closing the channel), so no orphan keeps
 * training and writing checkpoints into a run folder a resumed run now owns.
 */
function exitWithHost(): void {
  const gone = (why: string): void => {
    for (const a of running.values()) a.abort();
    process.stderr.write(`engine: ${why}; exiting\n`);
    process.exit(3);
  };
  process.on('disconnect', () => gone('the host closed the IPC channel'));
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) gone(`the host (pid ${parent}) is gone`);
  }, 1000).unref();
}
const running = new Map<number, AbortController>();


async function runJob(req: Extract<EngineRequest, { type: 'start' }>): Promise<void> {
  const abort = new AbortController();
  running.set(req.jobId, abort);
  const { jobId } = req;
  const ctx: JobContext = {
    home: req.home,
    runDir: req.runDir,
    runId: req.runId,
    signal: abort.signal,
    progress: (done, total, message) => port.post({ type: 'progress', jobId, done, total, message }),
    metrics: (points) => port.post({ type: 'metrics', jobId, points }),
    score: (score) => port.post({ type: 'score', jobId, score }),
    artifact: (kind, path, meta = {}) => port.post({ type: 'artifact', jobId, kind, path, meta }),
    log: (level, message) => port.post({ type: 'log', jobId, level, message }),
  };
  port.post({ type: 'started', jobId });
  try {
    const job = await loadJob(req.kind);
    const result: JsonObject = await job(req.spec, ctx);
    port.post(abort.signal.aborted ? { type: 'cancelled', jobId } : { type: 'done', jobId, result });
  } catch (e) {
    if (e instanceof JobCancelled || abort.signal.aborted) port.post({ type: 'cancelled', jobId });
    else if (isWasmAbort(e)) {
      // the wasm instance is dead: every later job would fail the same way. Say so, then make way for a fresh engine.
      port.post({ type: 'failed', jobId, fatal: true, error: wasmAbortMessage(e) });
      setTimeout(() => process.exit(4), 200);
    } else port.post({ type: 'failed', jobId, error: e instanceof Error ? e.message : String(e) });
  } finally {
    running.delete(jobId);
  }
}

async function main(): Promise<void> {
  exitWithHost();
  const queue: Extract<EngineRequest, { type: 'start' }>[] = [];
  let busy = false;
  const pump = async (): Promise<void> => {
    if (busy) return;
    busy = true;
    for (let next = queue.shift(); next; next = queue.shift()) await runJob(next);
    busy = false;
  };
  port.onRequest((r) => {
    if (r.type === 'start') {
      queue.push(r);
      void pump();
    } else if (r.type === 'cancel') running.get(r.jobId)?.abort();
    else if (r.type === 'shutdown') {
      for (const a of running.values()) a.abort();
      setTimeout(() => process.exit(0), running.size ? 500 : 0);
    }
  });
  const info = await initBackend();
  port.post({ type: 'ready', pid: process.pid, info });
}

main().catch((e: unknown) => {
  port.post({ type: 'log', jobId: null, level: 'error', message: `engine failed to start: ${e instanceof Error ? e.message : String(e)}` });
  process.exit(1);
});
