// A JobContext for engine tests that records what a job reports: metrics, scores, artifacts, logs and
// progress, in a fresh run folder under the lab home.
import fs from 'node:fs';
import path from 'node:path';
import type { JobContext } from '../../engine/context';
import type { JsonObject, MetricPoint, ScoreRecord } from '../../engine/protocol';

export interface Recorded {
  metrics: MetricPoint[];
  scores: ScoreRecord[];
  artifacts: { kind: string; path: string; meta?: JsonObject }[];
  logs: string[];
  progress: number[];
}

export function recordingContext(home: string, name: string, runId = 1): { ctx: JobContext; rec: Recorded; runDir: string } {
  const runDir = path.join(home, 'runs', name);
  fs.mkdirSync(runDir, { recursive: true });
  const rec: Recorded = { metrics: [], scores: [], artifacts: [], logs: [], progress: [] };
  const ctx: JobContext = {
    home,
    runDir,
    runId,
    signal: new AbortController().signal,
    progress: (d) => rec.progress.push(d),
    metrics: (p) => rec.metrics.push(...p),
    score: (s) => rec.scores.push(s),
    artifact: (kind, p, meta) => rec.artifacts.push({ kind, path: p, meta }),
    log: (_l, m) => rec.logs.push(m),
  };
  return { ctx, rec, runDir };
}
