// A wasm abort (issue "Reliability", item 6): after one, the engine process cannot run another job.

/** An Emscripten abort or trap: after one the wasm backend's memory and state cannot be trusted. */
export function isWasmAbort(e: unknown): boolean {
  if (typeof WebAssembly !== 'undefined' && e instanceof WebAssembly.RuntimeError) return true;
  return e instanceof Error && /^(RuntimeError: )?Aborted\(/.test(e.message);
}

export function wasmAbortMessage(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return `the wasm backend aborted (${msg.split('\n')[0].slice(0, 200)}). This is most often memory: the model, codebook or batch does not fit the wasm backend's 4 GiB. Make them smaller and start the job again; the engine restarts before the next job.`;
}
