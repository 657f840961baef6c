// Figure and table exports under <home>/exports/ (the app's Export menus) or a folder of the user's
// (`toklab export … --out DIR`), through the same headless renderer either way: one FigureDef gives
// the same SVG, PNG and PDF from the app and from the CLI. Every figure gets a `<name>.json` sidecar
// with its provenance (also in the PNG's text chunks and the PDF's Info dictionary); every table a
// `<name>.provenance.json` (never comment rows in the CSV).
//
// The requests come from a renderer (IPC / WebSocket): figureExportRequest and tableExportRequest
// check every field — bounded arrays and strings, finite numbers, known kinds — and rebuild the
// value from the fields they know, so nothing unchecked reaches the renderer or the disk.
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, realpathSync, renameSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import sharp from 'sharp';
import type { Corner, Dash, ExportFigure, FigureDef, GalleryFigure, LabelPos } from '../../figures/types';
import { PRESETS } from '../../figures/style';
import type { FigureExportRequest, FigureFormat, FigurePreset, JsonObject, JsonValue, TableExportRequest, TableFormat } from '../../preload/contract';
import { composeGrid } from '../report/images';
import { pngWithText, renderExport } from '../report/render';
import { toCsv, toJsonTable, toTex } from '../report/tables';
import { APP_VERSION } from './version';

export class ExportInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

const fail = (field: string, what: string): never => {
  throw new ExportInputError(`${field} ${what}`);
};

// ---------- small checkers: each names the field it refuses ----------

function obj(v: unknown, field: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(field, 'must be an object');
  return v as Record<string, unknown>;
}

function str(v: unknown, field: string, max: number, opts: { min?: number } = {}): string {
  if (typeof v !== 'string') fail(field, `must be a string, got ${describe(v)}`);
  const s = v as string;
  if (s.length > max) fail(field, `must be at most ${max} characters (got ${s.length})`);
  if (s.length < (opts.min ?? 0)) fail(field, `must not be empty`);
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(s)) fail(field, 'must not contain control characters');
  return s;
}

const optStr = (v: unknown, field: string, max: number): string | undefined => (v === undefined || v === null ? undefined : str(v, field, max));

function num(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(field, `must be a finite number, got ${describe(v)}`);
  return v as number;
}

const numOrNull = (v: unknown, field: string): number | null => (v === null ? null : num(v, field));

function bounded(v: unknown, field: string, lo: number, hi: number): number {
  const n = num(v, field);
  if (n < lo || n > hi) fail(field, `must be from ${lo} to ${hi}; got ${n}`);
  return n;
}

function bool(v: unknown, field: string): boolean {
  if (typeof v !== 'boolean') fail(field, `must be true or false, got ${describe(v)}`);
  return v as boolean;
}

function arr(v: unknown, field: string, max: number, min = 0): unknown[] {
  if (!Array.isArray(v)) fail(field, `must be a list, got ${describe(v)}`);
  const a = v as unknown[];
  if (a.length > max) fail(field, `must have at most ${max} entries (got ${a.length})`);
  if (a.length < min) fail(field, `must have at least ${min} ${min === 1 ? 'entry' : 'entries'}`);
  return a;
}

function oneOf<T extends string>(v: unknown, allowed: readonly T[], field: string): T {
  if (typeof v !== 'string' || !allowed.includes(v as T)) fail(field, `must be one of ${allowed.join(', ')}; got ${describe(v)}`);
  return v as T;
}

function pair(v: unknown, field: string): [number, number] {
  const a = arr(v, field, 2, 2);
  return [num(a[0], `${field}[0]`), num(a[1], `${field}[1]`)];
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  try {
    const s = JSON.stringify(v);
    return s === undefined ? typeof v : s.length > 40 ? `${s.slice(0, 40)}…` : s;
  } catch {
    return typeof v;
  }
}

/** A CSS colour as the figure builders write them: #rgb / #rrggbb, rgb(…) or hsl(…). */
function color(v: unknown, field: string): string {
  const s = str(v, field, 40);
  if (!/^(#[0-9a-fA-F]{3}|#[0-9a-fA-F]{6}|(rgb|hsl)a?\(\s*[\d.]+%?\s*,\s*[\d.]+%?\s*,\s*[\d.]+%?\s*(,\s*[\d.]+\s*)?\))$/.test(s)) fail(field, `must be a colour like #0072B2 or hsl(120, 65%, 42%); got ${describe(v)}`);
  return s;
}

const TEXT = 300;
const LABEL = 200;
const MAX_POINTS = 5_000;
const MAX_SERIES = 200;
const MAX_SERIES_POINTS = 100_000;
const MAX_TOTAL_POINTS = 500_000;
const MAX_PANELS = 64;
const MAX_GRID = 100;

const LABEL_POS: readonly LabelPos[] = ['right', 'left', 'top', 'bottom', 'top-right', 'top-left', 'bottom-right', 'bottom-left'];
const CORNERS: readonly Corner[] = ['top-left', 'top-right', 'bottom-left', 'bottom-right'];
const DASH_NAMES: readonly Dash[] = ['solid', 'dash', 'dot', 'dashdot', 'longdash', 'longdashdot'];

function legends(v: unknown, field: string): { name: string; color: string }[] {
  return arr(v, field, 100).map((g, i) => {
    const o = obj(g, `${field}[${i}]`);
    return { name: str(o.name, `${field}[${i}].name`, LABEL), color: color(o.color, `${field}[${i}].color`) };
  });
}

function orderedRange(v: unknown, field: string): [number, number] {
  const r = pair(v, field);
  if (!(r[1] > r[0])) fail(field, `must be [low, high] with low < high; got [${r[0]}, ${r[1]}]`);
  return r;
}

/** Checks a FigureDef field by field and rebuilds it from what it knows. */
export function figureDef(v: unknown, field = 'figure'): ExportFigure {
  const o = obj(v, field);
  const kind = oneOf(o.kind, ['correlation', 'heatmap', 'bar', 'line', 'gallery'] as const, `${field}.kind`);
  const title = optStr(o.title, `${field}.title`, TEXT);
  const withTitle = <T extends object>(x: T): T & { title?: string } => (title === undefined ? x : { ...x, title });
  switch (kind) {
    case 'correlation': {
      const points = arr(o.points, `${field}.points`, MAX_POINTS).map((p, i) => {
        const f = `${field}.points[${i}]`;
        const q = obj(p, f);
        const out = { label: str(q.label, `${f}.label`, LABEL), x: num(q.x, `${f}.x`), y: num(q.y, `${f}.y`), color: color(q.color, `${f}.color`), labelPos: oneOf(q.labelPos, LABEL_POS, `${f}.labelPos`) };
        const withDist = q.labelDist === undefined ? out : { ...out, labelDist: bounded(q.labelDist, `${f}.labelDist`, 1, 5) };
        return q.group === undefined ? withDist : { ...withDist, group: str(q.group, `${f}.group`, LABEL) };
      });
      let fit = null;
      if (o.fit !== null) {
        const fo = obj(o.fit, `${field}.fit`);
        fit = { slope: num(fo.slope, `${field}.fit.slope`), intercept: num(fo.intercept, `${field}.fit.intercept`), x: pair(fo.x, `${field}.fit.x`), y: pair(fo.y, `${field}.fit.y`) };
      }
      return withTitle({
        kind,
        xTitle: str(o.xTitle, `${field}.xTitle`, TEXT),
        yTitle: str(o.yTitle, `${field}.yTitle`, TEXT),
        points,
        groups: legends(o.groups, `${field}.groups`),
        fit,
        xRange: orderedRange(o.xRange, `${field}.xRange`),
        yRange: orderedRange(o.yRange, `${field}.yRange`),
        annotation: arr(o.annotation, `${field}.annotation`, 10).map((l, i) => str(l, `${field}.annotation[${i}]`, TEXT)),
        corner: oneOf(o.corner, CORNERS, `${field}.corner`),
      });
    }
    case 'heatmap': {
      const panels = arr(o.panels, `${field}.panels`, MAX_PANELS, 1).map((p, k) => {
        const f = `${field}.panels[${k}]`;
        const q = obj(p, f);
        const rowLabels = arr(q.rowLabels, `${f}.rowLabels`, MAX_GRID, 1).map((l, i) => str(l, `${f}.rowLabels[${i}]`, LABEL));
        const colLabels = arr(q.colLabels, `${f}.colLabels`, MAX_GRID, 1).map((l, i) => str(l, `${f}.colLabels[${i}]`, LABEL));
        const z = arr(q.z, `${f}.z`, rowLabels.length, rowLabels.length).map((row, i) => arr(row, `${f}.z[${i}]`, colLabels.length, colLabels.length).map((c, j) => numOrNull(c, `${f}.z[${i}][${j}]`)));
        const cells = arr(q.cells, `${f}.cells`, rowLabels.length * colLabels.length).map((c, n) => {
          const g = `${f}.cells[${n}]`;
          const co = obj(c, g);
          const row = num(co.row, `${g}.row`);
          const col = num(co.col, `${g}.col`);
          if (!Number.isInteger(row) || row < 0 || row >= rowLabels.length) fail(`${g}.row`, `must be a row index below ${rowLabels.length}`);
          if (!Number.isInteger(col) || col < 0 || col >= colLabels.length) fail(`${g}.col`, `must be a column index below ${colLabels.length}`);
          return {
            row, col,
            rowLabel: str(co.rowLabel, `${g}.rowLabel`, LABEL), colLabel: str(co.colLabel, `${g}.colLabel`, LABEL),
            value: numOrNull(co.value, `${g}.value`), text: str(co.text, `${g}.text`, 40), dark: bool(co.dark, `${g}.dark`),
          };
        });
        return { title: str(q.title, `${f}.title`, LABEL), rowLabels, colLabels, z, cells };
      });
      const columns = num(o.columns, `${field}.columns`);
      if (!Number.isInteger(columns) || columns < 1 || columns > 8) fail(`${field}.columns`, 'must be a whole number from 1 to 8');
      return withTitle({
        kind,
        colorTitle: str(o.colorTitle, `${field}.colorTitle`, LABEL),
        xTitle: str(o.xTitle, `${field}.xTitle`, TEXT),
        yTitle: str(o.yTitle, `${field}.yTitle`, TEXT),
        domain: orderedRange(o.domain, `${field}.domain`),
        scheme: oneOf(o.scheme, ['viridis'] as const, `${field}.scheme`),
        columns,
        panels,
      });
    }
    case 'bar': {
      const rows = arr(o.rows, `${field}.rows`, MAX_POINTS).map((r, i) => {
        const f = `${field}.rows[${i}]`;
        const q = obj(r, f);
        const out = {
          label: str(q.label, `${f}.label`, LABEL), key: str(q.key, `${f}.key`, LABEL + 20), value: num(q.value, `${f}.value`), color: color(q.color, `${f}.color`),
          spread: q.spread === undefined ? undefined : numOrNull(q.spread, `${f}.spread`), lo: numOrNull(q.lo, `${f}.lo`), hi: numOrNull(q.hi, `${f}.hi`),
        };
        return q.group === undefined ? out : { ...out, group: str(q.group, `${f}.group`, LABEL) };
      });
      const keys = new Set<string>();
      rows.forEach((r, i) => {
        if (keys.has(r.key)) fail(`${field}.rows[${i}].key`, `repeats "${r.key}"; every bar needs its own key`);
        keys.add(r.key);
      });
      const out = { kind, yTitle: str(o.yTitle, `${field}.yTitle`, TEXT), rows, groups: legends(o.groups, `${field}.groups`), yRange: orderedRange(o.yRange, `${field}.yRange`) };
      return withTitle(o.xTitle === undefined || o.xTitle === null ? out : { ...out, xTitle: str(o.xTitle, `${field}.xTitle`, TEXT) });
    }
    case 'line': {
      let total = 0;
      const series = arr(o.series, `${field}.series`, MAX_SERIES).map((s, i) => {
        const f = `${field}.series[${i}]`;
        const q = obj(s, f);
        const x = arr(q.x, `${f}.x`, MAX_SERIES_POINTS).map((v, k) => num(v, `${f}.x[${k}]`));
        const y = arr(q.y, `${f}.y`, MAX_SERIES_POINTS).map((v, k) => num(v, `${f}.y[${k}]`));
        if (x.length !== y.length) fail(`${f}.y`, `must have as many values as ${f}.x (${x.length}); got ${y.length}`);
        total += x.length;
        if (total > MAX_TOTAL_POINTS) fail(`${field}.series`, `must hold at most ${MAX_TOTAL_POINTS} points in all`);
        const out: FigureDefLineSeries = {
          name: str(q.name, `${f}.name`, LABEL), x, y, color: color(q.color, `${f}.color`), dash: oneOf(q.dash, DASH_NAMES, `${f}.dash`), markers: bool(q.markers, `${f}.markers`),
          axis: oneOf(q.axis, ['left', 'right'] as const, `${f}.axis`), step: bool(q.step, `${f}.step`),
        };
        if (q.group !== undefined) out.group = str(q.group, `${f}.group`, LABEL);
        if (q.variant !== undefined) out.variant = str(q.variant, `${f}.variant`, LABEL);
        return out;
      });
      const logY = bool(o.logY, `${field}.logY`);
      const yTicks = o.yTicks === null ? null : arr(o.yTicks, `${field}.yTicks`, 100, 2).map((v, k) => num(v, `${field}.yTicks[${k}]`));
      if (yTicks && yTicks.some((t, k) => t <= 0 || (k > 0 && t <= yTicks[k - 1]))) fail(`${field}.yTicks`, 'must be positive and increasing');
      const y2Title = o.y2Title === null || o.y2Title === undefined ? null : str(o.y2Title, `${field}.y2Title`, TEXT);
      if (series.some((s) => s.axis === 'right') && y2Title === null) fail(`${field}.y2Title`, 'must name the right-hand axis: a series is drawn against it');
      return withTitle({
        kind, xTitle: str(o.xTitle, `${field}.xTitle`, TEXT), yTitle: str(o.yTitle, `${field}.yTitle`, TEXT), y2Title, logY, series, yTicks,
        yRange: o.yRange === null || o.yRange === undefined ? null : orderedRange(o.yRange, `${field}.yRange`),
      });
    }
    case 'gallery': {
      const columns = arr(o.columns, `${field}.columns`, 12, 1).map((c, i) => {
        const q = obj(c, `${field}.columns[${i}]`);
        return { title: str(q.title, `${field}.columns[${i}].title`, TEXT), path: artifactPath(q.path, `${field}.columns[${i}].path`) };
      });
      const out: GalleryFigure = { kind, columns, rowLabels: arr(o.rowLabels, `${field}.rowLabels`, 1000).map((l, i) => str(l, `${field}.rowLabels[${i}]`, LABEL)) };
      if (title !== undefined) out.title = title;
      const footer = optStr(o.footer, `${field}.footer`, 1000);
      if (footer !== undefined) out.footer = footer;
      return out;
    }
  }
}
type FigureDefLineSeries = Extract<FigureDef, { kind: 'line' }>['series'][number];

/** A PNG artifact path relative to the lab home: runs/<id>/…png, no '..', no absolute path. */
function artifactPath(v: unknown, field: string): string {
  const p = str(v, field, 500, { min: 1 });
  if (isAbsolute(p) || p.includes('\\') || p.split('/').some((s) => s === '..' || s === '.' || s === '') || !/^runs\/\d+\/[\w./-]+\.png$/.test(p)) fail(field, `must be a PNG artifact path inside the lab home such as runs/12/gen-no-cfg.png; got ${describe(v)}`);
  return p;
}

const MAX_PROVENANCE = 256 * 1024;

/** Plain JSON (no non-finite numbers), at most 8 levels deep and 256 KiB as text. */
function jsonObject(v: unknown, field: string): JsonObject {
  const walk = (x: unknown, f: string, depth: number): JsonValue => {
    if (depth > 8) fail(f, 'nests deeper than 8 levels');
    if (x === null || typeof x === 'boolean') return x as JsonValue;
    if (typeof x === 'number') return num(x, f);
    if (typeof x === 'string') return str(x, f, 20_000);
    if (Array.isArray(x)) return arr(x, f, 10_000).map((y, i) => walk(y, `${f}[${i}]`, depth + 1));
    if (typeof x === 'object') {
      const out: JsonObject = {};
      for (const [k, y] of Object.entries(x as Record<string, unknown>)) {
        if (k.length > 200) fail(f, `has a key longer than 200 characters`);
        out[k] = walk(y, `${f}.${k}`, depth + 1);
      }
      return out;
    }
    return fail(f, `must be JSON (got a ${typeof x})`);
  };
  const out = walk(obj(v, field), field, 0) as JsonObject;
  if (JSON.stringify(out).length > MAX_PROVENANCE) fail(field, `must be at most ${MAX_PROVENANCE / 1024} KiB as JSON`);
  return out;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,120}$/;

function exportName(v: unknown, field = 'name'): string {
  const s = str(v, field, 121, { min: 1 });
  if (!NAME.test(s) || /\.(png|svg|pdf|csv|tex|json)$/i.test(s)) fail(field, `must be a file name stem of letters, digits, '.', '_' and '-' (no extension: each format adds its own); got ${describe(v)}`);
  return s;
}

function formats<T extends string>(v: unknown, allowed: readonly T[], field: string): T[] {
  const list = arr(v, field, allowed.length, 1).map((f, i) => oneOf(f, allowed, `${field}[${i}]`));
  if (new Set(list).size !== list.length) fail(field, 'lists a format twice');
  return list;
}

export const FIGURE_FORMATS: readonly FigureFormat[] = ['png', 'svg', 'pdf'];
export const TABLE_FORMATS: readonly TableFormat[] = ['csv', 'tex', 'json'];
export const DPI_RANGE = [50, 1200] as const;

/** Host-side validation of an exportFigure argument (it came over IPC / WebSocket). */
export function figureExportRequest(v: unknown): FigureExportRequest {
  const o = obj(v, 'request');
  const figure = figureDef(o.figure, 'figure');
  const fmts = formats(o.formats, FIGURE_FORMATS, 'formats');
  if (figure.kind === 'gallery' && fmts.some((f) => f !== 'png')) fail('formats', 'of a gallery can only be png: it is made of the run\'s PNG images');
  const req: FigureExportRequest = {
    name: exportName(o.name),
    figure,
    formats: fmts,
    preset: oneOf(o.preset ?? 'double', ['single', 'double'] as const satisfies readonly FigurePreset[], 'preset'),
    provenance: jsonObject(o.provenance ?? {}, 'provenance'),
  };
  if (o.dpi !== undefined) {
    const d = num(o.dpi, 'dpi');
    if (!Number.isInteger(d) || d < DPI_RANGE[0] || d > DPI_RANGE[1]) fail('dpi', `must be a whole number from ${DPI_RANGE[0]} to ${DPI_RANGE[1]}; got ${d}`);
    req.dpi = d;
  }
  return req;
}

const MAX_COLUMNS = 200;
const MAX_CELLS = 1_000_000;

/** Host-side validation of an exportTable argument. */
export function tableExportRequest(v: unknown): TableExportRequest {
  const o = obj(v, 'request');
  const columns = arr(o.columns, 'columns', MAX_COLUMNS, 1).map((c, i) => str(c, `columns[${i}]`, LABEL, { min: 1 }));
  const seen = new Set<string>();
  columns.forEach((c, i) => {
    if (seen.has(c)) fail(`columns[${i}]`, `repeats "${c}"; column names must be unique`);
    seen.add(c);
  });
  const rowsIn = arr(o.rows, 'rows', Math.floor(MAX_CELLS / columns.length));
  const rows = rowsIn.map((r, i) =>
    arr(r, `rows[${i}]`, columns.length, columns.length).map((c, j): string | number | null => {
      if (c === null) return null;
      if (typeof c === 'number') return num(c, `rows[${i}][${j}]`);
      return str(c, `rows[${i}][${j}]`, 10_000);
    }),
  );
  const req: TableExportRequest = { name: exportName(o.name), columns, rows, formats: formats(o.formats, TABLE_FORMATS, 'formats'), provenance: jsonObject(o.provenance ?? {}, 'provenance') };
  if (o.booktabs !== undefined) req.booktabs = bool(o.booktabs, 'booktabs');
  return req;
}

// ---------- writing ----------

/** <home>/exports, created; refused when it is a symbolic link (exports stay inside the lab home). */
export function exportsDir(home: string): string {
  const dir = join(home, 'exports');
  mkdirSync(dir, { recursive: true });
  if (lstatSync(dir).isSymbolicLink()) throw new Error(`${dir} is a symbolic link; exports stay inside the lab home. Replace it with a folder.`);
  return dir;
}

/** A fresh file renamed over the name: a symlink already at that name is replaced, never followed. */
function writeFresh(dir: string, name: string, data: string | Buffer): string {
  const file = join(dir, name);
  const tmp = join(dir, `.${name}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  writeFileSync(tmp, data, { flag: 'wx' });
  renameSync(tmp, file);
  return file;
}

const software = (): string => `toklab ${APP_VERSION}`;

/** Resolves a lab-home-relative artifact path; refused when it (or a link on the way) leads outside the home. */
function insideHome(home: string, rel: string): string {
  const p = resolve(home, rel);
  if (!existsSync(p)) throw new Error(`figure.columns: ${rel} does not exist in this lab home`);
  const real = realpathSync(p);
  const root = realpathSync(home);
  const r = relative(root, real);
  if (r.startsWith('..') || isAbsolute(r) || r.split(sep)[0] === '..') throw new Error(`figure.columns: ${rel} leads outside the lab home`);
  return real;
}

/**
 * Renders and writes a figure into `dir`: `<name>.<format>` per format and `<name>.json` (provenance,
 * preset, dpi, files). `home` resolves a gallery's artifact paths. Returns the paths written, figures first.
 */
export async function writeFigureExport(dir: string, home: string, req: FigureExportRequest): Promise<string[]> {
  const dpi = req.dpi ?? 300;
  const preset = PRESETS[req.preset];
  const title = req.figure.title ?? req.name;
  const description = JSON.stringify(req.provenance);
  const written: string[] = [];
  let size: { width: number; height: number };
  if (req.figure.kind === 'gallery') {
    const g = req.figure;
    const png = await composeGrid({
      tiles: [g.columns.map((c) => ({ png: insideHome(home, c.path) }))],
      colLabels: g.columns.map((c) => c.title),
      tileRowLabels: g.rowLabels,
      title: g.title,
      footer: g.footer,
      scale: galleryScale(await pngHeights(g.columns.map((c) => insideHome(home, c.path)))),
      gap: 16,
    });
    const meta = await sharp(png).metadata();
    written.push(writeFresh(dir, `${req.name}.png`, pngWithText(await sharp(png).withDensity(dpi).png({ compressionLevel: 9 }).toBuffer(), { Title: title, Software: software(), Description: description })));
    size = { width: meta.width ?? 0, height: meta.height ?? 0 };
  } else {
    const out = await renderExport(req.figure, { preset: req.preset, dpi, formats: req.formats, meta: { title, description, software: software() } });
    for (const f of req.formats) {
      const data = f === 'svg' ? out.svg : f === 'png' ? out.png : out.pdf;
      if (data !== undefined) written.push(writeFresh(dir, `${req.name}.${f}`, data));
    }
    size = { width: out.width, height: out.height };
  }
  const sidecar = {
    name: req.name,
    kind: req.figure.kind,
    title: req.figure.title ?? null,
    files: written.map((p) => p.slice(dir.length + 1)),
    preset: req.figure.kind === 'gallery' ? null : { name: req.preset, widthIn: preset.widthIn, label: preset.label },
    dpi: req.formats.includes('png') && req.figure.kind !== 'gallery' ? dpi : null,
    size: req.figure.kind === 'gallery' ? { widthPx: size.width, heightPx: size.height } : { widthIn: preset.widthIn, heightIn: +(size.height / 96).toFixed(4), widthPx: size.width, heightPx: size.height },
    software: software(),
    createdAt: new Date().toISOString(),
    provenance: req.provenance,
  };
  written.push(writeFresh(dir, `${req.name}.json`, JSON.stringify(sidecar, null, 2) + '\n'));
  return written;
}

async function pngHeights(files: string[]): Promise<number[]> {
  return Promise.all(files.map(async (f) => (await sharp(f).metadata()).height ?? 1));
}

/** Whole-number upscaling so the grids are about 320 px tall (small generated images stay crisp). */
const galleryScale = (heights: number[]): number => Math.max(1, Math.min(16, Math.floor(320 / Math.max(1, ...heights))));

export async function exportFigure(home: string, req: FigureExportRequest): Promise<string[]> {
  return writeFigureExport(exportsDir(home), home, req);
}

/** Writes a table into `dir`: `<name>.<format>` per format and `<name>.provenance.json`. */
export function writeTableExport(dir: string, req: TableExportRequest): string[] {
  const t = { columns: req.columns, rows: req.rows };
  const written: string[] = [];
  for (const f of req.formats) {
    const data = f === 'csv' ? toCsv(t) : f === 'tex' ? toTex(t, { booktabs: req.booktabs ?? true, comment: `toklab export ${req.name}; provenance in ${req.name}.provenance.json` }) : toJsonTable(t);
    written.push(writeFresh(dir, `${req.name}.${f}`, data));
  }
  const sidecar = { name: req.name, files: written.map((p) => p.slice(dir.length + 1)), columns: req.columns, rows: req.rows.length, software: software(), createdAt: new Date().toISOString(), provenance: req.provenance };
  written.push(writeFresh(dir, `${req.name}.provenance.json`, JSON.stringify(sidecar, null, 2) + '\n'));
  return written;
}

export function exportTable(home: string, req: TableExportRequest): string[] {
  return writeTableExport(exportsDir(home), req);
}
