// Prepares lab state for the Sweeps, Generate and Runs e2e specs through the CLI (faster than clicking):
// a tiny 16 px shapes dataset, a one-epoch tokenizer and, when asked, a one-epoch generator.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './serve-fixture';

export function toklab(home: string, ...args: string[]): string {
  return execFileSync(process.execPath, [join(ROOT, 'bin/toklab.mjs'), '--home', home, ...args], {
    cwd: ROOT,
    env: { ...process.env, TOKLAB_BACKEND: 'wasm', TOKLAB_MIN_EXTRACTOR_ACCURACY: '0' },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

const runId = (out: string): number => {
  const m = /run (\d+) done/.exec(out);
  if (!m) throw new Error(`the CLI did not finish a run:\n${out}`);
  return Number(m[1]);
};

/** Dataset 1 (with a quickly trained feature network) and a tokenizer run; returns the tokenizer's run id. */
export function prepTokenizer(home: string): number {
  toklab(home, 'datasets', 'add', 'shapes', '--resolution', '16', '--train-count', '200', '--val-count', '64');
  // a few dozen steps: far below the 0.9 floor, which the e2e runs lower (TOKLAB_MIN_EXTRACTOR_ACCURACY=0)
  toklab(home, 'train', 'feature-net', '--dataset', '1', '--max-steps', '40', '--min-steps', '0', '--eval-every', '20');
  return runId(toklab(home, 'train', 'tokenizer', '--dataset', '1', '--preset', 'vq-f4-k64', '--epochs', '1', '--train-limit', '128'));
}

/** Dataset, tokenizer and generator; returns the generator's run id. */
export function prepGenerator(home: string): number {
  const tok = prepTokenizer(home);
  return runId(toklab(home, 'train', 'generator', '--tokenizer', String(tok), '--epochs', '1'));
}

/**
 * For the Runs tracker: dataset 1, tokenizer A (1 epoch, no LP) and tokenizer B (2 epochs, LP α 0.5),
 * each evaluated once at the same protocol (rFID and a one-cell pFID grid on 32 held-out images).
 */
export function prepTwoTokenizers(home: string): { tokenizers: [number, number]; evals: [number, number] } {
  const a = prepTokenizer(home);
  const b = runId(toklab(home, 'train', 'tokenizer', '--dataset', '1', '--preset', 'vq-f4-k64', '--epochs', '2', '--train-limit', '128', '--lp', 'alpha=0.5'));
  const evals = [a, b].map((t) => {
    const r = JSON.parse(toklab(home, 'eval', 'tokenizer', String(t), '--alpha', '0.5', '--delta', '4', '--n', '32', '--json')) as { id: number; status: string };
    if (r.status !== 'done') throw new Error(`evaluation of tokenizer ${t} ended ${r.status}`);
    return r.id;
  });
  return { tokenizers: [a, b], evals: [evals[0], evals[1]] };
}
