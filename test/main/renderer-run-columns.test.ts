// The Runs tracker's pure helpers: sorting with missing values last, column defaults and their
// persistence, search matching, grouping by tokenizer, the majority protocol of a score column,
// EMA smoothing, hash routes and the matching of compared runs' images.
import { describe, expect, it } from 'vitest';
import type { Artifact, JsonValue, RowScore, RunKind, RunRow } from '../../preload/contract';
import { matchImages } from '../../renderer/src/lib/compare-images';
import { compareHash, parseHash, runHash } from '../../renderer/src/lib/route';
import {
  availableColumns,
  betterDirection,
  cellValue,
  codebookK,
  defaultColumns,
  expandColumns,
  filterRows,
  formatDelta,
  groupRows,
  loadColumns,
  majorityProtocols,
  matchesSearch,
  offProtocol,
  resetColumns,
  saveColumns,
  scoreLabel,
  sortRows,
  toggleColumn,
  type ColumnContext,
  type StoreLike,
} from '../../renderer/src/lib/run-columns';
import { emaSmooth } from '../../renderer/src/lib/smooth';

const ctx: ColumnContext = { datasets: new Map([[1, 'shapes-16']]), runNames: new Map() };

const row = (id: number, o: Partial<RunRow> = {}): RunRow => ({
  id, kind: 'tokenizer', jobKind: 'train-tokenizer', name: `run ${id}`, status: 'done', parentId: null, sweepId: null, datasetId: 1, seed: 0,
  backend: 'wasm', createdAt: `2026-01-0${Math.min(id, 9)}T00:00:00Z`, startedAt: null, finishedAt: null, error: null, tags: [], progress: null,
  notes: '', config: {}, scores: {}, last: {}, dependents: 0, ...o,
});
const score = (value: number, protocolKey = 'p1', scoreId = 1): RowScore => ({ value, scoreId, runId: 0, protocolKey, protocol: `protocol ${protocolKey}` });
const ids = (rows: RunRow[]): number[] => rows.map((r) => r.id);

describe('sortRows', () => {
  const rows = [
    row(1, { scores: { 'eval/rfid': score(10) } }),
    row(2, { scores: {} }),
    row(3, { scores: { 'eval/rfid': score(9) } }),
    row(4, { scores: { 'eval/rfid': score(100) } }),
    row(5, { scores: { 'eval/rfid': score(Number.NaN) } }),
  ];

  it('orders numbers numerically (100 after 9 and 10), missing values last in both directions', () => {
    expect(ids(sortRows(rows, { column: 'score:eval/rfid', dir: 'asc' }, ctx))).toEqual([3, 1, 4, 5, 2]);
    // desc flips the numbers only: the runs without a value (2, and 5 with NaN) stay at the bottom
    expect(ids(sortRows(rows, { column: 'score:eval/rfid', dir: 'desc' }, ctx))).toEqual([4, 1, 3, 5, 2]);
  });

  it('orders text naturally and config numbers as numbers', () => {
    const named = [row(1, { name: 'vq 10' }), row(2, { name: 'vq 9' }), row(3, { name: 'VQ 100' })];
    expect(ids(sortRows(named, { column: 'name', dir: 'asc' }, ctx))).toEqual([2, 1, 3]);
    const cfg = [row(1, { config: { epochs: 10 } }), row(2, { config: { epochs: 2 } }), row(3, { config: {} }), row(4, { config: { epochs: 30 } })];
    expect(ids(sortRows(cfg, { column: 'config:epochs', dir: 'asc' }, ctx))).toEqual([2, 1, 4, 3]);
    expect(ids(sortRows(cfg, { column: 'config:epochs', dir: 'desc' }, ctx))).toEqual([4, 1, 2, 3]);
  });

  it('breaks ties by id, newest first, and does not reorder its input', () => {
    const tied = [row(1, { config: { preset: 'a' } }), row(3, { config: { preset: 'a' } }), row(2, { config: { preset: 'a' } })];
    expect(ids(sortRows(tied, { column: 'config:preset', dir: 'asc' }, ctx))).toEqual([3, 2, 1]);
    expect(ids(tied)).toEqual([1, 3, 2]);
  });
});

describe('columns', () => {
  it('defaults per kind: tokenizers show preset, K, LP α/β, epochs, PSNR, rFID, pFID mean; generators arch, preset, gFID', () => {
    const tok = defaultColumns('tokenizer');
    for (const c of ['config:preset', 'K', 'config:lp.alpha', 'config:lp.beta', 'config:epochs', 'score:tokenizer/psnr', 'score:eval/rfid', 'score:eval/pfid_mean']) expect(tok).toContain(c);
    const gen = defaultColumns('generator');
    for (const c of ['config:arch', 'config:preset', 'score:gen/gfid']) expect(gen).toContain(c);
    expect(gen).not.toContain('config:lp.alpha');
    expect(defaultColumns('post-train')).toEqual(tok);
    // a copy: editing it does not change the next call's defaults
    tok.pop();
    expect(defaultColumns('tokenizer')).toHaveLength(tok.length + 1);
  });

  it('offers every config key, score and last metric of the rows, and the defaults even before any run has them', () => {
    const ids = availableColumns([row(1, { config: { 'lp.alpha': 0.5, 'model.widths': '[16,32]' }, scores: { 'eval/usage': score(1) }, last: { 'train/loss': 0.3 } })], 'tokenizer').map((c) => c.id);
    for (const c of ['config:lp.alpha', 'config:model.widths', 'score:eval/usage', 'last:train/loss', 'score:eval/rfid', 'config:preset', 'id', 'status']) expect(ids).toContain(c);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('a default metric the host splits (gFID per CFG scale) becomes its splits, in numeric order', () => {
    const rows = [row(1, { kind: 'generator', scores: { 'gen/gfid @cfg 10': score(30), 'gen/gfid @cfg 1.5': score(40), 'gen/gfid @cfg 0': score(50), 'gen/is @cfg 0': score(2) } })];
    const available = availableColumns(rows, 'generator').map((c) => c.id);
    // the bare default is not offered beside its splits (it would always be empty)
    expect(available).not.toContain('score:gen/gfid');
    const shown = expandColumns(defaultColumns('generator'), available);
    const at = shown.indexOf('score:gen/gfid @cfg 0');
    expect(shown.slice(at, at + 3)).toEqual(['score:gen/gfid @cfg 0', 'score:gen/gfid @cfg 1.5', 'score:gen/gfid @cfg 10']);
    expect(shown).not.toContain('score:gen/is @cfg 0'); // another metric's split is not pulled in
    // with no gFID anywhere the default column stays, empty
    expect(expandColumns(['id', 'score:gen/gfid'], availableColumns([row(2)], 'generator').map((c) => c.id))).toEqual(['id', 'score:gen/gfid']);
    expect(scoreLabel('gen/gfid @cfg 1.5')).toBe('gFID @cfg 1.5');
    expect(scoreLabel('eval/pfid_mean')).toBe('pFID mean');
    expect(scoreLabel('eval/unheard_of')).toBe('eval/unheard_of');
  });

  it('imported ONNX tokenizers and extractors have defaults of their own: no preset, LP or PSNR', () => {
    const ext = defaultColumns('external-tokenizer');
    for (const c of ['K', 'config:l2', 'config:layout', 'config:range', 'score:eval/rfid', 'score:eval/pfid_mean']) expect(ext).toContain(c);
    for (const c of ['config:preset', 'config:lp.alpha', 'score:tokenizer/psnr']) expect(ext).not.toContain(c);
    const ex = defaultColumns('extractor');
    for (const c of ['config:model', 'config:input', 'config:range']) expect(ex).toContain(c);
    expect(ex).not.toContain('score:eval/rfid');
  });

  it('K comes from overrides.K, an imported tokenizer’s model.K, else from the preset’s name', () => {
    expect(codebookK(row(1, { config: { preset: 'vq-f4-k256' } }))).toBe(256);
    expect(codebookK(row(1, { kind: 'external-tokenizer', config: { 'model.K': 64 } }))).toBe(64);
    expect(codebookK(row(1, { config: { preset: 'vq-f4-k256', 'overrides.K': 512 } }))).toBe(512);
    expect(codebookK(row(1, { config: { arch: 'raster' } }))).toBeNull();
  });

  it('reads cells: booleans and arrays as text, missing as null, the dataset by name', () => {
    const r = row(7, { config: { flip: false, lp: null, widths: [16, 32] as JsonValue }, datasetId: 1 });
    expect(cellValue(r, 'config:flip', ctx)).toBe('false');
    expect(cellValue(r, 'config:lp', ctx)).toBeNull();
    expect(cellValue(r, 'config:widths', ctx)).toBe('[16,32]');
    expect(cellValue(r, 'config:absent', ctx)).toBeNull();
    expect(cellValue(r, 'dataset', ctx)).toBe('shapes-16');
  });

  it('remembers the shown columns per kind and falls back to the defaults on junk', () => {
    const data = new Map<string, string>();
    const store: StoreLike = { getItem: (k) => data.get(k) ?? null, setItem: (k, v) => void data.set(k, v), removeItem: (k) => void data.delete(k) };
    saveColumns(store, 'tokenizer', ['id', 'score:eval/rfid']);
    expect(loadColumns(store, 'tokenizer')).toEqual(['id', 'score:eval/rfid']);
    expect(loadColumns(store, 'generator')).toEqual(defaultColumns('generator'));
    expect(loadColumns(store, '')).toEqual(defaultColumns(''));
    data.set('toklab.runs.columns.generator', '{"not":"a list"}');
    expect(loadColumns(store, 'generator')).toEqual(defaultColumns('generator'));
    data.set('toklab.runs.columns.generator', 'not json');
    expect(loadColumns(store, 'generator')).toEqual(defaultColumns('generator'));
    expect(resetColumns(store, 'tokenizer')).toEqual(defaultColumns('tokenizer'));
    expect(loadColumns(store, 'tokenizer')).toEqual(defaultColumns('tokenizer'));
    expect(loadColumns(null, 'tokenizer')).toEqual(defaultColumns('tokenizer'));
  });

  it('shows a hidden column where the full list has it and hides one without moving the rest', () => {
    const order = ['id', 'kind', 'name', 'status', 'tags'];
    expect(toggleColumn(['id', 'name', 'tags'], 'kind', order)).toEqual(['id', 'kind', 'name', 'tags']);
    expect(toggleColumn(['id', 'name', 'tags'], 'name', order)).toEqual(['id', 'tags']);
    expect(toggleColumn(['id'], 'score:x', order)).toEqual(['id', 'score:x']);
  });
});

describe('search and filters', () => {
  const r = row(12, { name: 'vq K64 +LP', tags: ['study:quick-shapes', 'baseline'], notes: 'Codebook collapsed after epoch 3', config: { preset: 'vq-f4-k64', 'lp.alpha': 0.5 } });

  it('matches a case-insensitive substring of the name, a tag, the notes or a config value', () => {
    expect(matchesSearch(r, 'QUICK')).toBe(true); // part of a tag
    expect(matchesSearch(r, 'collapsed')).toBe(true);
    expect(matchesSearch(r, 'f4-k64')).toBe(true);
    expect(matchesSearch(r, '0.5')).toBe(true);
    expect(matchesSearch(r, '#12')).toBe(true);
    expect(matchesSearch(r, '')).toBe(true);
    expect(matchesSearch(r, 'k256')).toBe(false);
  });

  it('needs every term (in any field), not any', () => {
    expect(matchesSearch(r, 'baseline collapsed')).toBe(true);
    expect(matchesSearch(r, 'baseline k256')).toBe(false);
  });

  it('filters by kind, status, dataset and parent together', () => {
    const rows = [row(1), row(2, { kind: 'eval', parentId: 1 }), row(3, { kind: 'eval', parentId: 1, status: 'failed' }), row(4, { kind: 'eval', parentId: 9, datasetId: 2 })];
    const f = { search: '', kind: '' as RunKind | '', status: '' as const, datasetId: null, parentId: null };
    expect(ids(filterRows(rows, { ...f, kind: 'eval' }))).toEqual([2, 3, 4]);
    expect(ids(filterRows(rows, { ...f, kind: 'eval', parentId: 1 }))).toEqual([2, 3]);
    expect(ids(filterRows(rows, { ...f, parentId: 1, status: 'done' }))).toEqual([2]);
    expect(ids(filterRows(rows, { ...f, datasetId: 2 }))).toEqual([4]);
  });
});

describe('groupRows', () => {
  const rows = [
    row(9, { kind: 'eval', parentId: 8, name: 'gFID of 8' }),
    row(8, { kind: 'generator', parentId: 3 }),
    row(5, { kind: 'eval', parentId: 3 }),
    row(4, { kind: 'tokenizer', name: 'K256' }),
    row(3, { kind: 'tokenizer', name: 'K64' }),
    row(1, { kind: 'dataset', datasetId: null }),
  ];

  it('by parent tokenizer: a tokenizer with its evaluations, its generators and their gFID runs', () => {
    const g = groupRows(rows, 'tokenizer', ctx);
    expect(g.map((x) => x.label)).toEqual(['tokenizer 3: K64', 'tokenizer 4: K256', 'no tokenizer']);
    expect(ids(g[0].rows)).toEqual([9, 8, 5, 3]); // the table's order kept inside the group
    expect(ids(g[2].rows)).toEqual([1]);
  });

  it('resolves parents through runs the filter hides', () => {
    const g = groupRows([rows[0]], 'tokenizer', ctx, rows);
    expect(g.map((x) => x.label)).toEqual(['tokenizer 3: K64']);
  });

  it('an imported (ONNX) tokenizer heads its evaluations like a trained one', () => {
    const withExt = [...rows, row(12, { kind: 'eval', parentId: 11 }), row(11, { kind: 'external-tokenizer', name: 'onnx-fixture', datasetId: null })];
    const g = groupRows(withExt, 'tokenizer', ctx);
    expect(g.map((x) => x.label)).toEqual(['tokenizer 3: K64', 'tokenizer 4: K256', 'tokenizer 11: onnx-fixture', 'no tokenizer']);
    expect(ids(g[2].rows)).toEqual([12, 11]);
  });

  it('by kind in pipeline order, by dataset with the runs without one last', () => {
    expect(groupRows(rows, 'kind', ctx).map((x) => x.key)).toEqual(['dataset', 'tokenizer', 'generator', 'eval']);
    const more = [...rows, row(20, { kind: 'external-tokenizer' }), row(21, { kind: 'extractor' }), row(22, { kind: 'feature-net' })];
    expect(groupRows(more, 'kind', ctx).map((x) => x.key)).toEqual(['dataset', 'feature-net', 'extractor', 'tokenizer', 'external-tokenizer', 'generator', 'eval']);
    expect(groupRows(rows, 'dataset', ctx).map((x) => x.label)).toEqual(['dataset 1: shapes-16', 'no dataset']);
    expect(groupRows(rows, '', ctx)).toEqual([{ key: '', label: '', rows }]);
  });
});

describe('majorityProtocols', () => {
  it('takes the protocol most rows share, marks the others, and breaks a tie by the newest score', () => {
    const rows = [
      row(1, { scores: { 'eval/rfid': score(9, 'N400', 10) } }),
      row(2, { scores: { 'eval/rfid': score(8, 'N400', 11) } }),
      row(3, { scores: { 'eval/rfid': score(7, 'N50', 30), 'gen/gfid': score(40, 'cfg0', 5) } }),
      row(4, { scores: { 'gen/gfid': score(41, 'cfg1.5', 6) } }),
    ];
    const m = majorityProtocols(rows);
    // N = 50 has the newest score, but N = 400 covers more rows: a lone newer evaluation does not win
    expect(m.get('eval/rfid')).toMatchObject({ key: 'N400', count: 2, total: 3 });
    expect(offProtocol(rows[2].scores['eval/rfid'], m.get('eval/rfid'))).toBe(true);
    expect(offProtocol(rows[0].scores['eval/rfid'], m.get('eval/rfid'))).toBe(false);
    // 1 : 1 → the newest score's protocol
    expect(m.get('gen/gfid')).toMatchObject({ key: 'cfg1.5', count: 1, total: 2 });
    expect(offProtocol(undefined, m.get('gen/gfid'))).toBe(false);
  });
});

describe('emaSmooth', () => {
  it('returns the input at weight 0 and keeps a constant series constant (no start-up bias towards 0)', () => {
    expect(emaSmooth([3, 1, 2], 0)).toEqual([3, 1, 2]);
    const s = emaSmooth([5, 5, 5, 5], 0.9);
    for (const v of s) expect(v).toBeCloseTo(5, 12);
  });

  it('is the debiased EMA: s1 = x1, s2 = (w(1−w)x1 + (1−w)x2)/(1−w²)', () => {
    const [a, b] = emaSmooth([0, 10], 0.5) as number[];
    expect(a).toBe(0);
    // (0.5·0.5·0 + 0.5·10) / 0.75
    expect(b).toBeCloseTo(6.6667, 4);
  });

  it('leaves gaps missing without letting them pull the average', () => {
    const s = emaSmooth([4, null, Number.NaN, 4], 0.8);
    expect(s[1]).toBeNull();
    expect(s[2]).toBeNull();
    expect(s[3]).toBeCloseTo(4, 12);
  });

  it('smooths: a spike is damped', () => {
    const s = emaSmooth([1, 1, 1, 11, 1], 0.9) as number[];
    expect(s[3]).toBeLessThan(5);
    expect(s[3]).toBeGreaterThan(1);
  });
});

describe('routes', () => {
  const pages = ['Datasets', 'Tokenizers', 'Runs'];
  it('reads #runs/ID, #compare/ID,ID and page names in any case', () => {
    expect(parseHash('#runs/12', pages)).toEqual({ page: 'Runs', runId: 12, compare: null });
    expect(parseHash('#compare/3,5,3', pages)).toEqual({ page: 'Runs', runId: null, compare: [3, 5] });
    expect(parseHash('#tokenizers', pages)).toEqual({ page: 'Tokenizers', runId: null, compare: null });
    expect(parseHash('#Datasets', pages).page).toBe('Datasets');
    expect(parseHash('', pages)).toEqual({ page: 'Runs', runId: null, compare: null });
    expect(parseHash('#runs/abc', pages).runId).toBeNull();
    expect(parseHash('#compare/3,x', pages).compare).toBeNull();
    expect(parseHash(runHash(4), pages).runId).toBe(4);
    expect(parseHash(compareHash([2, 7]), pages).compare).toEqual([2, 7]);
  });
});

describe('matchImages', () => {
  let nextId = 1;
  const art = (runId: number, kind: string, meta: Record<string, JsonValue>, path = `runs/${runId}/x${nextId}.png`): Artifact => ({ id: nextId++, runId, kind, path, meta, createdAt: '' });

  it('lines up the newest image of each kind per run; samples only at the same setting and seeds', () => {
    const images = [
      { runId: 3, artifacts: [art(3, 'recon-grid', { epoch: 1 }), art(3, 'token-flip-map', { epoch: 1 }, 'runs/3/f.json')] },
      { runId: 4, artifacts: [art(4, 'recon-grid', { epoch: 2 }), art(4, 'recon-grid', { epoch: 1 }), art(4, 'sample-grid', { setting: 'cfg1.5', seeds: [0, 1] })] },
      { runId: 5, artifacts: [art(5, 'sample-grid', { setting: 'cfg1.5', seeds: [0, 1] }), art(5, 'sample-grid', { setting: 'cfg1.5', seeds: [7, 8] })] },
    ];
    const rows = matchImages(images, [3, 4, 5]);
    const recon = rows.find((r) => r.key === 'recon-grid')!;
    expect(recon.cells.map((a) => a?.meta.epoch ?? null)).toEqual([1, 2, null]); // run 4's epoch 2, not its epoch 1
    const matched = rows.find((r) => r.label === 'sample-grid · cfg1.5 · seeds 0,1')!;
    expect(matched.cells.map((a) => a?.runId ?? null)).toEqual([null, 4, 5]);
    const other = rows.find((r) => r.label.includes('seeds 7,8'))!;
    expect(other.cells.map((a) => a?.runId ?? null)).toEqual([null, null, 5]);
    // JSON artifacts are not images
    expect(rows.some((r) => r.key.startsWith('token-flip-map'))).toBe(false);
  });
});

describe('deltas', () => {
  it('says which way a metric improves', () => {
    expect(betterDirection('eval/rfid')).toBe('lower');
    expect(betterDirection('eval/pfid_mean')).toBe('lower');
    expect(betterDirection('gen/gfid')).toBe('lower');
    expect(betterDirection('tokenizer/psnr')).toBe('higher');
    expect(betterDirection('eval/recon_acc')).toBe('higher');
    expect(betterDirection('gen/is')).toBe('higher');
    expect(betterDirection('train/lr')).toBeNull();
  });
  it('prints a signed delta with a real minus', () => {
    expect(formatDelta(1.234)).toBe('+1.23');
    expect(formatDelta(-0.045)).toBe('−0.0450');
    expect(formatDelta(0)).toBe('±0');
    expect(formatDelta(null)).toBe('—');
  });
});
