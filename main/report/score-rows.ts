// The long score table of `toklab export table scores`: one row per score with its run, its value and
// how it was computed (the protocol as text, its id, and the fields a paper's table states).
import { createHash } from 'node:crypto';
import { describeProtocol, protocolKey, protocolOf } from '../../engine/metrics/provenance';
import type { ScoreRow } from '../../preload/contract';
import type { Table } from './tables';

export const SCORE_COLUMNS = ['score_id', 'run_id', 'run_name', 'run_kind', 'parent_run_id', 'metric', 'value', 'protocol_id', 'protocol', 'extractor_id', 'extractor_accuracy', 'split', 'n', 'seed', 'arch', 'cfg_scale', 'created_at', 'provenance_json'];

const scalar = (v: unknown): string | number | null => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' ? v : null);

export function scoresTable(rows: ScoreRow[]): Table {
  return {
    columns: SCORE_COLUMNS,
    rows: rows.map((s) => {
      const p = s.provenance as Record<string, unknown>;
      const proto = protocolOf(s.metric, p);
      const cfg = (p.cfg ?? {}) as Record<string, unknown>;
      return [
        s.id, s.runId, s.runName, s.runKind, s.parentId, s.metric, s.value,
        createHash('sha256').update(protocolKey(proto)).digest('hex').slice(0, 12), describeProtocol(proto),
        scalar(p.extractorId), scalar(p.extractorAccuracy), scalar(p.split), scalar(p.n), scalar(p.seed), scalar(p.arch), scalar(cfg.scale), s.createdAt, JSON.stringify(p),
      ];
    }),
  };
}
