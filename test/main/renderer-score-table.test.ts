// The Analysis table: tokenizer × (rFID, pFID mean, gFID per CFG) with newest-wins, generator →
// tokenizer mapping, arch filter, and CSV / LaTeX text.
import { describe, expect, it } from 'vitest';
import type { RunSummary, ScoreRow } from '../../preload/contract';
import { buildScoreTable, scoreTableProvenance, scoreTableRows } from '../../renderer/src/lib/score-table';
import { toCsv, toTex } from '../../main/report/tables';

const run = (id: number, name: string, parentId: number | null, kind: RunSummary['kind']): RunSummary => ({
  id, kind, jobKind: 'train-tokenizer', name, status: 'done', parentId, sweepId: null, datasetId: 1, seed: 0, backend: 'wasm',
  createdAt: '', startedAt: null, finishedAt: null, error: null, tags: [], progress: null,
});
let nextId = 1;
const score = (runId: number, parentId: number, metric: string, value: number, prov: Record<string, unknown> = {}): ScoreRow => ({
  id: nextId++, runId, metric, value, provenance: { extractorId: 'lab-abc', n: 64, seed: 0, ...prov } as ScoreRow['provenance'],
  createdAt: '', runName: `run ${runId}`, runKind: 'eval', parentId, tags: [],
});

const runs = [run(1, 'vq K64', null, 'tokenizer'), run(2, 'vq_K256 & LP', null, 'tokenizer'), run(5, 'raster gpt-nano on tokenizer 1', 1, 'generator'), run(6, 'rar gpt-nano on tokenizer 2', 2, 'generator')];

describe('buildScoreTable', () => {
  const evalRows = [score(10, 1, 'eval/rfid', 9), score(11, 1, 'eval/rfid', 8), score(11, 1, 'eval/pfid_mean', 20), score(12, 2, 'eval/pfid_mean', 30), score(12, 2, 'eval/usage', 0.5)];
  const genRows = [
    score(20, 5, 'gen/gfid', 40, { cfg: { scale: 0, schedule: 'none' } }),
    score(20, 5, 'gen/gfid', 35, { cfg: { scale: 1.5, schedule: 'constant' } }),
    score(20, 5, 'gen/is', 3, { cfg: { scale: 1.5, schedule: 'constant' } }),
    score(21, 6, 'gen/gfid', 50, { cfg: { scale: 3, schedule: 'cosine-power', power: 1 } }),
  ];

  it('maps gFID through the generator to its tokenizer, one column per CFG scale, newest score wins', () => {
    const t = buildScoreTable(evalRows, genRows, runs);
    expect(t.columns).toEqual(['rFID', 'pFID mean', 'gFID (no CFG)', 'gFID (CFG 1.5)', 'gFID (CFG 3)']);
    expect(t.rows.map((r) => r.tokenizerId)).toEqual([1, 2]);
    expect(t.rows[0].cells.map((c) => c?.value ?? null)).toEqual([8, 20, 40, 35, null]);
    expect(t.rows[1].cells.map((c) => c?.value ?? null)).toEqual([null, 30, null, null, 50]);
    expect(t.rows[0].cells[0]?.prov).toContain('extractorId=lab-abc');
    expect(t.extractors).toEqual(['lab-abc']);
  });

  it('keeps only generators of the asked architecture', () => {
    const t = buildScoreTable(evalRows, genRows, runs, 'rar');
    expect(t.columns).toEqual(['rFID', 'pFID mean', 'gFID (CFG 3)']);
    expect(t.rows[0].cells[2]).toBeNull();
    expect(t.rows[1].cells[2]?.value).toBe(50);
  });

  it('prefers the decoder / tokenizer run named in the provenance over the run tree', () => {
    const t = buildScoreTable([score(30, 1, 'eval/rfid', 4, { tokenizerRun: 'runs/2' })], [score(31, 5, 'gen/gfid', 60, { decoderRun: 'runs/2', arch: 'rar' })], runs, 'rar');
    expect(t.rows.map((r) => r.tokenizerId)).toEqual([2]);
    expect(t.rows[0].cells.map((c) => c?.value ?? null)).toEqual([4, null, 60]);
  });

  it('exports rows that the host writes as CSV (quoted, no comment rows) and LaTeX (escaped); the extractor goes to the sidecar', () => {
    const t = buildScoreTable(evalRows, genRows, runs);
    const rows = scoreTableRows(t);
    const csv = toCsv(rows).split('\r\n');
    expect(csv[0]).toBe('tokenizer_id,tokenizer,rFID,pFID mean,gFID (no CFG),gFID (CFG 1.5),gFID (CFG 3)');
    expect(csv[1]).toBe('1,vq K64,8,20,40,35,');
    expect(csv[2]).toBe('2,vq_K256 & LP,,30,,,50');
    expect(csv.some((l) => l.startsWith('#'))).toBe(false);
    expect(csv).toHaveLength(4);
    const tex = toTex(rows, { booktabs: true });
    expect(tex).toContain('\\begin{tabular}{rlrrrrr}');
    expect(tex).toContain('2 & vq\\_K256 \\& LP & -- & 30 & -- & -- & 50 \\\\');
    expect(JSON.stringify(scoreTableProvenance(t, 'raster'))).toContain('lab-abc');
  });

});
