// Lint: typescript-eslint's recommended rules plus the house import-direction rule
// (STYLE.md "Dependency direction"), so the process boundaries hold without anyone remembering.
import tseslint from 'typescript-eslint';

const NODE_BUILTINS = ['node:*', 'fs', 'path', 'child_process', 'os', 'http', 'net', 'crypto'];
const restrict = (patterns) => ['error', { patterns }];

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', 'test-results/**', '**/*.svelte', 'bench/results/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/*.ts'],
    rules: {
      'no-restricted-imports': restrict([
        { group: ['@tensorflow/tfjs-core/dist/register_all_gradients'], message: 'Cannot load in plain Node; engine/tf.ts registers gradients.' },
      ]),
    },
  },
  {
    files: ['engine/**/*.ts'],
    rules: {
      'no-console': 'error',
      'no-restricted-imports': restrict([
        { group: ['electron', 'better-sqlite3', 'ws'], message: 'engine/ is pure TypeScript + TensorFlow.js (STYLE.md).' },
        { group: ['**/main/**', '**/renderer/**', '**/preload/**'], message: 'engine/ must not import host, renderer or preload code.' },
        { group: ['@tensorflow/tfjs-core/dist/register_all_gradients'], message: 'Cannot load in plain Node; engine/tf.ts registers gradients.' },
      ]),
    },
  },
  {
    files: ['main/**/*.ts'],
    ignores: ['main/index.ts', 'main/electron/**'],
    rules: {
      'no-restricted-imports': restrict([
        { group: ['electron'], message: 'Host services are plain Node; electron belongs in main/index.ts and main/electron/.' },
        { group: ['**/renderer/**'], message: 'The host never imports renderer code.' },
        { regex: '(^|/)engine/(?!protocol$|specs/|checkpoint-files$|metrics/(correlation|provenance|feature-files)$)', message: 'The host talks to the engine through engine/protocol, validates with engine/specs, and uses only the pure metrics and checkpoint-file modules.' },
      ]),
    },
  },
  {
    files: ['main/index.ts', 'main/electron/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict([
        { group: ['**/renderer/**'], message: 'The host never imports renderer code.' },
        { regex: '(^|/)engine/(?!protocol$|specs/)', message: 'The host talks to the engine through engine/protocol.' },
      ]),
    },
  },
  {
    files: ['preload/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict([
        { group: ['**/main/**', '**/renderer/**', 'better-sqlite3', ...NODE_BUILTINS], message: 'preload/ imports only electron and ./contract.' },
        { regex: '(^|/)engine/(?!protocol$)', message: 'preload/ shares only engine/protocol types.' },
      ]),
    },
  },
  {
    files: ['renderer/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict([
        { group: ['electron', 'better-sqlite3', ...NODE_BUILTINS], message: 'The renderer is a web page: browser libraries only.' },
        { group: ['**/main/**', '**/engine/**'], message: 'The renderer sees the lab only through preload/contract.' },
      ]),
    },
  },
  {
    // Figure definitions are plain data shared by the renderer (Plotly) and the host (Vega, headless):
    // anyone may import figures/, figures/ imports nothing of the lab and nothing platform-bound.
    files: ['figures/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict([
        { group: ['**/main/**', '**/renderer/**', '**/preload/**', '**/engine/**'], message: 'figures/ is shared by every side and imports none of them.' },
        { group: ['electron', 'better-sqlite3', 'ws', 'sharp', 'vega', 'vega-*', 'plotly.js*', '@tensorflow/*', ...NODE_BUILTINS], message: 'figures/ is plain data: no DOM, Node, tfjs or rendering library (adapters return specs; main/report and renderer/src/lib render them).' },
      ]),
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);
