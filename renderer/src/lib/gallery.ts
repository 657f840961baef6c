// Helpers of the Generate page: the gallery grids of a sample run (one PNG per CFG setting on the
// same classes × seeds, METHOD §4), gFID/IS-vs-CFG points from scores, and the one-PNG export.
import type { Artifact, JsonObject, ScoreRow } from '../../../preload/contract';

export interface GalleryGrid {
  path: string;
  setting: string;
  /** null = without CFG. */
  scale: number | null;
  schedule: string | null;
  power: number | null;
  temperature: number | null;
  classes: number[];
  seeds: number[];
}

const numList = (v: unknown): number[] => (Array.isArray(v) ? v.filter((x): x is number => typeof x === 'number') : []);
const numOrNull = (v: unknown): number | null => (typeof v === 'number' ? v : null);

export function gridOf(a: Artifact): GalleryGrid {
  const m = a.meta;
  return {
    path: a.path,
    setting: typeof m.setting === 'string' ? m.setting : a.path.split('/').pop() ?? '',
    scale: m.cfg === true ? numOrNull(m.scale) : null,
    schedule: typeof m.schedule === 'string' ? m.schedule : null,
    power: numOrNull(m.power),
    temperature: numOrNull(m.temperature),
    classes: numList(m.classes),
    seeds: numList(m.seeds),
  };
}

/** Splits a sample run's grids into the one without CFG and those with CFG (by scale). */
export function galleryGrids(artifacts: Artifact[]): { noCfg: GalleryGrid | null; cfg: GalleryGrid[] } {
  const grids = artifacts.filter((a) => a.kind === 'sample-grid').map(gridOf);
  return {
    noCfg: grids.find((g) => g.scale === null) ?? null,
    cfg: grids.filter((g) => g.scale !== null).sort((a, b) => (a.scale ?? 0) - (b.scale ?? 0)),
  };
}

export function cfgLabel(g: GalleryGrid): string {
  if (g.scale === null) return 'without CFG';
  const sched = g.schedule === 'cosine-power' ? `cosine-power p=${g.power}` : 'constant';
  return `CFG g=${g.scale} (${sched})`;
}

export function classNames(meta: JsonObject | undefined, n: number): string[] {
  const c = meta?.classes;
  const names = Array.isArray(c) ? c.map(String) : [];
  return Array.from({ length: n }, (_, i) => names[i] ?? `class ${i}`);
}

/** One metric of one evaluation run against its CFG scale (provenance cfg.scale; 0 = without CFG). */
export function cfgPoints(rows: ScoreRow[], metric: string, runId: number): { scale: number; value: number; row: ScoreRow }[] {
  return rows
    .filter((r) => r.runId === runId && r.metric === metric)
    .map((r) => {
      const cfg = r.provenance.cfg as JsonObject | undefined;
      return { scale: typeof cfg?.scale === 'number' ? cfg.scale : 0, value: r.value, row: r };
    })
    .sort((a, b) => a.scale - b.scale);
}

function load(url: string): Promise<HTMLImageElement> {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error(`could not load ${url}`));
    img.src = url;
  });
}

/** Draws the panels side by side with a title above each and class names on the left; a PNG data URL. */
export async function composeGallery(panels: { title: string; url: string }[], rowLabels: string[], footer: string): Promise<string> {
  const imgs = await Promise.all(panels.map((p) => load(p.url)));
  const zoom = Math.max(1, Math.floor(320 / Math.max(...imgs.map((i) => i.naturalHeight))));
  const labelW = 110;
  const head = 28;
  const gap = 16;
  const h = Math.max(...imgs.map((i) => i.naturalHeight)) * zoom;
  const width = labelW + imgs.reduce((s, i) => s + i.naturalWidth * zoom + gap, 0);
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = head + h + 26;
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('no 2D canvas in this window');
  ctx.fillStyle = 'white';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.imageSmoothingEnabled = false;
  ctx.fillStyle = '#1d232b';
  ctx.font = '13px system-ui, sans-serif';
  ctx.textBaseline = 'middle';
  rowLabels.forEach((l, r) => ctx.fillText(l, 6, head + ((r + 0.5) * h) / rowLabels.length, labelW - 10));
  let x = labelW;
  imgs.forEach((img, k) => {
    ctx.fillText(panels[k].title, x, head / 2);
    ctx.drawImage(img, x, head, img.naturalWidth * zoom, img.naturalHeight * zoom);
    x += img.naturalWidth * zoom + gap;
  });
  ctx.fillStyle = '#66707c';
  ctx.font = '11px system-ui, sans-serif';
  ctx.fillText(footer, 6, head + h + 13, width - 12);
  return canvas.toDataURL('image/png');
}
