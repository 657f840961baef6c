// How the engine starts one of its own worker_threads files (data-parallel replicas, the eigensolver's
// rotation workers). From TypeScript sources (CLI, serve, tests) the worker loads tsx's ESM API and
// imports the .ts file through it: a worker does not inherit the parent's --import hooks. In the
// electron-vite build the worker is its own bundle, `<name>.js`, beside the engine's chunks.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface WorkerEntry {
  /** A file path, or code to run with `eval: true`. */
  code: string;
  eval: boolean;
}

/**
 * The entry of worker `name` (the .ts file beside `callerUrl`, i.e. the caller's import.meta.url, or the
 * bundled `name.js`). Throws with the fix when the bundle is missing.
 */
export function workerEntry(name: string, callerUrl: string): WorkerEntry {
  const here = fileURLToPath(callerUrl);
  if (here.endsWith('.ts')) {
    const src = path.join(path.dirname(here), `${name}.ts`);
    const api = pathToFileURL(createRequire(callerUrl).resolve('tsx/esm/api').replace(/index\.cjs$/, 'index.mjs')).href;
    const code = `import(${JSON.stringify(api)}).then((m) => m.tsImport(${JSON.stringify(pathToFileURL(src).href)}, ${JSON.stringify(callerUrl)})).catch((e) => { throw e; });`;
    return { code, eval: true };
  }
  for (const dir of [path.dirname(here), path.join(path.dirname(here), '..')]) {
    const file = path.join(dir, `${name}.js`);
    if (fs.existsSync(file)) return { code: file, eval: false };
  }
  throw new Error(`the worker bundle ${name}.js is missing beside ${here}: rebuild the app (npm run build)`);
}
