// bench/fid.ts at a tiny size: rows are produced, and a missing interpreter becomes a "skipped" row.
import { describe, expect, it } from 'vitest';
import { runFidBench } from '../../bench/fid';

describe('fid benchmark', () => {
  it('reports TS timings and the FID of its structured features', async () => {
    const rows = await runFidBench({ n: 60, d: 16, python: null });
    expect(rows.map((r) => r.name)).toEqual(['fid 16-d 60 stats', 'fid 16-d 60 eigen-form fid', 'fid 16-d 60 total']);
    const fid = rows[2].details?.fid as number;
    expect(fid).toBeGreaterThan(0);
    expect(rows[2].value).toBe(rows[0].value + rows[1].value);
  });

  it('turns a missing python into a skipped row instead of failing', async () => {
    const rows = await runFidBench({ n: 60, d: 16, python: '/nonexistent/python3' });
    const last = rows[rows.length - 1];
    expect(last.name).toMatch(/scipy sqrtm/);
    expect(String(last.details?.skipped)).toMatch(/could not run \/nonexistent\/python3/);
  });
});
