// `toklab export` as a user runs it (bin/toklab.mjs, a child process with no DISPLAY) on a lab home
// seeded through the Repo API: figures as vector SVG / opaque PNG / PDF, byte-identical to what the
// app's exportFigure writes for the same definition, and the score table as CSV whose rows are the
// database's scores.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { correlationExport } from '../../figures';
import { correlateScores } from '../../main/host/analysis';
import { exportFigure, figureExportRequest } from '../../main/host/exports';
import { openDb } from '../../main/host/store/db';
import { Repo } from '../../main/host/store/repo';
import { seedExportLab } from '../e2e/seed-export-lab';
import { cleanupsAfterEach, tempHome } from './helpers';
import { parseCsv } from '../csv-parse';

const run = promisify(execFile);
const BIN = join(__dirname, '../../bin/toklab.mjs');
const onCleanup = cleanupsAfterEach();

async function toklab(home: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, TOKLAB_BACKEND: 'wasm' };
  delete env.DISPLAY;
  delete env.WAYLAND_DISPLAY;
  try {
    const r = await run(process.execPath, [BIN, '--home', home, ...args], { env, timeout: 120_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

/** RFC 4180 records (quoted fields, doubled quotes, CRLF). */

describe('toklab export', () => {
  it('figure correlation --format svg,png,pdf: vector, opaque, and the same bytes as the app export of that definition', async () => {
    const t = tempHome();
    onCleanup(t.cleanup);
    await seedExportLab(t.home);
    const r = await toklab(t.home, 'export', 'figure', 'correlation', '--x', 'eval/pfid_mean', '--y', 'gen/gfid', '--arch', 'raster', '--cfg', '0', '--format', 'svg,png,pdf', '--preset', 'single', '--dpi', '200');
    expect(r.stderr).not.toMatch(/toklab: /);
    expect(r.code).toBe(0);
    const files = r.stdout.trim().split('\n');
    const base = join(t.home, 'exports', 'correlation-eval_pfid_mean-vs-gen_gfid-raster-cfg0');
    expect(files).toEqual([`${base}.svg`, `${base}.png`, `${base}.pdf`, `${base}.json`]);
    const svg = readFileSync(`${base}.svg`, 'utf8');
    expect(svg).toMatch(/<path[\s>]/);
    expect(svg).toMatch(/<text[\s>]/);
    expect(svg).not.toMatch(/<image[\s>]/);
    expect(svg).toContain('Spearman ρ');
    const meta = await sharp(`${base}.png`).metadata();
    expect(meta.hasAlpha).toBe(false);
    expect(meta.width).toBe(650);
    expect(readFileSync(`${base}.pdf`).subarray(0, 5).toString()).toBe('%PDF-');
    const side = JSON.parse(readFileSync(`${base}.json`, 'utf8'));
    expect(side.provenance).toMatchObject({ n: 6, extractorId: 'lab-e2e', extractorAccuracy: 0.97, arch: 'raster', cfgScale: 0 });
    expect(side.provenance.runs).toHaveLength(6);
    expect(side.provenance.x.protocol).toContain('N = 100');

    // the app: the same correlation through the host, its definition exported with exportFigure
    const db = openDb(join(t.home, 'lab.db'));
    try {
      const result = correlateScores(new Repo(db), { x: 'eval/pfid_mean', y: 'gen/gfid', arch: 'raster', cfgScale: 0 });
      const app = correlationExport(result);
      await exportFigure(t.home, figureExportRequest({ ...app, name: 'from-app', formats: ['svg', 'png', 'pdf'], preset: 'single', dpi: 200 }));
    } finally {
      db.close();
    }
    for (const ext of ['svg', 'png', 'pdf']) expect(readFileSync(join(t.home, 'exports', `from-app.${ext}`)).equals(readFileSync(`${base}.${ext}`)), ext).toBe(true);
  });

  it('figure heatmap, pfid-curves, curves and gallery; table scores as CSV rows equal to the database; usage errors', async () => {
    const t = tempHome();
    onCleanup(t.cleanup);
    const seeded = await seedExportLab(t.home);
    const out = join(t.home, 'paper');
    const ok = async (...args: string[]): Promise<string[]> => {
      const r = await toklab(t.home, ...args);
      expect(r.stderr, args.join(' ')).not.toMatch(/toklab: /);
      expect(r.code).toBe(0);
      return r.stdout.trim().split('\n');
    };
    const heat = await ok('export', 'figure', 'heatmap', '--runs', seeded.evals.slice(0, 3).join(','), '--format', 'svg', '--out', out);
    expect(heat[0]).toBe(join(out, `pfid-heatmaps-${seeded.evals.slice(0, 3).join('_')}.svg`));
    const hs = readFileSync(heat[0], 'utf8');
    expect(hs.match(/role-scope panel-\d/g)).toHaveLength(3);
    expect(JSON.parse(readFileSync(heat[1], 'utf8')).provenance.tokenizers).toHaveLength(3);
    const curves = await ok('export', 'figure', 'curves', '--runs', seeded.tokenizers.slice(0, 2).join(','), '--metric', 'train/loss', '--format', 'png', '--out', out);
    expect((await sharp(curves[0]).metadata()).width).toBe(2025);
    const pc = await ok('export', 'figure', 'pfid-curves', '--runs', seeded.evals.join(','), '--format', 'svg', '--out', out, '--preset', 'single');
    expect(readFileSync(pc[0], 'utf8')).toContain('pFID (lab features)');
    const gal = await ok('export', 'figure', 'gallery', '--run', String(seeded.sampleRun), '--out', out);
    expect(gal[0]).toBe(join(out, `gallery-${seeded.sampleRun}.png`));
    expect((await sharp(gal[0]).metadata()).hasAlpha).toBe(false);

    const tab = await ok('export', 'table', 'scores', '--metric-prefix', 'eval/', '--format', 'csv,tex,json', '--out', out);
    expect(tab.map((p) => p.slice(out.length + 1))).toEqual(['scores-eval.csv', 'scores-eval.tex', 'scores-eval.json', 'scores-eval.provenance.json']);
    const rows = parseCsv(readFileSync(tab[0], 'utf8'));
    expect(rows.some((r) => r[0].startsWith('#'))).toBe(false);
    const db = openDb(join(t.home, 'lab.db'));
    const want = new Repo(db).listScores({ metricPrefix: 'eval/' });
    db.close();
    const col = (n: string): number => rows[0].indexOf(n);
    expect(rows.length - 1).toBe(want.length);
    rows.slice(1).forEach((r, i) => {
      expect(Number(r[col('score_id')])).toBe(want[i].id);
      expect(Number(r[col('run_id')])).toBe(want[i].runId);
      expect(r[col('run_name')]).toBe(want[i].runName);
      expect(r[col('metric')]).toBe(want[i].metric);
      expect(Number(r[col('value')])).toBe(want[i].value);
      expect(r[col('protocol')]).toContain('N = 100');
      expect(JSON.parse(r[col('provenance_json')])).toEqual(want[i].provenance);
    });
    const tex = readFileSync(tab[1], 'utf8');
    expect(/^[\x20-\x7e\n]*$/.test(tex)).toBe(true);
    const tokTable = await ok('export', 'table', 'tokenizers', '--format', 'csv', '--out', out);
    const tr = parseCsv(readFileSync(tokTable[0], 'utf8'));
    expect(tr[0]).toEqual(['tokenizer_id', 'tokenizer', 'rFID', 'pFID mean', 'gFID (no CFG)']);
    expect(tr.slice(1).map((r) => Number(r[0]))).toEqual(seeded.tokenizers);
    expect(tr[1][1]).toBe('vq k64 & "lp"');

    const bad = await toklab(t.home, 'export', 'figure', 'pie');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('export figure needs what to export');
    const badFmt = await toklab(t.home, 'export', 'figure', 'heatmap', '--runs', String(seeded.evals[0]), '--format', 'jpg');
    expect(badFmt.code).toBe(2);
    expect(badFmt.stderr).toContain('--format takes png, svg, pdf');
    const notEval = await toklab(t.home, 'export', 'figure', 'heatmap', '--runs', String(seeded.tokenizers[0]));
    expect(notEval.stderr).toContain('is a train-tokenizer run; give eval-tokenizer runs');
  });
});
