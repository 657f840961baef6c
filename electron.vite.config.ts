// electron-vite: builds the Electron main process (+ the engine entry it spawns with
// utilityProcess), the sandboxed preload (CommonJS, one file) and the Svelte renderer.
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'electron-vite';
import { resolve } from 'node:path';

export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      rollupOptions: {
        // replica-worker: the data-parallel training worker; eval-worker: the evaluation worker
        // (engine/worker-entry.ts finds both beside the engine's chunks)
        input: {
          index: resolve('main/index.ts'),
          engine: resolve('engine/host.ts'),
          'replica-worker': resolve('engine/train/replica-worker.ts'),
          'eval-worker': resolve('engine/eval/eval-worker.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      externalizeDeps: false,
      rollupOptions: {
        input: { index: resolve('preload/index.ts') },
        external: ['electron'],
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: 'renderer',
    plugins: [svelte()],
    build: {
      outDir: 'out/renderer',
      rollupOptions: { input: { index: resolve('renderer/index.html') } },
    },
  },
});
