// The JobContext the benches hand to engine jobs: a fresh run folder under the lab home, and nothing
// recorded (a bench times the job; `progress`, when given, is the one hook it needs).
import fs from 'node:fs';
import path from 'node:path';
import type { JobContext } from '../engine/context';

export function quietContext(home: string, run: string, progress: JobContext['progress'] = () => {}): JobContext {
  const runDir = path.join(home, 'runs', run);
  fs.mkdirSync(runDir, { recursive: true });
  return { home, runDir, runId: 1, signal: new AbortController().signal, progress, metrics: () => {}, score: () => {}, artifact: () => {}, log: () => {} };
}
