// A sample run's gallery grids (one PNG per CFG setting on the same classes × seeds, METHOD §4),
// read from its artifacts the same way by the Generate page and by `toklab export figure gallery`,
// and the gallery figure exported as one labelled PNG (composed in the host).
import type { GalleryFigure } from './types';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export interface ArtifactLike {
  kind: string;
  path: string;
  meta: { [k: string]: Json };
}

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

const numList = (v: Json | undefined): number[] => (Array.isArray(v) ? v.filter((x): x is number => typeof x === 'number') : []);
const numOrNull = (v: Json | undefined): number | null => (typeof v === 'number' ? v : null);

export function gridOf(a: ArtifactLike): GalleryGrid {
  const m = a.meta;
  return {
    path: a.path,
    setting: typeof m.setting === 'string' ? m.setting : (a.path.split('/').pop() ?? ''),
    scale: m.cfg === true ? numOrNull(m.scale) : null,
    schedule: typeof m.schedule === 'string' ? m.schedule : null,
    power: numOrNull(m.power),
    temperature: numOrNull(m.temperature),
    classes: numList(m.classes),
    seeds: numList(m.seeds),
  };
}

/** Splits a sample run's grids into the one without CFG and those with CFG (by scale). */
export function galleryGrids(artifacts: ArtifactLike[]): { noCfg: GalleryGrid | null; cfg: GalleryGrid[] } {
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

export function classNames(meta: { [k: string]: Json } | undefined, n: number): string[] {
  const c = meta?.classes;
  const names = Array.isArray(c) ? c.map(String) : [];
  return Array.from({ length: n }, (_, i) => names[i] ?? `class ${i}`);
}

const settingNote = (g: GalleryGrid): string => `T ${g.temperature ?? '?'} · classes [${g.classes.join(', ')}]`;

/**
 * The "without CFG" | "with CFG" gallery of a sample run as one figure: the grids side by side with
 * their setting above each column and the class names beside the rows; its file name and provenance.
 */
export function galleryExport(sampleRunId: number, grids: GalleryGrid[], classLabels: string[]): { name: string; figure: GalleryFigure; provenance: { [k: string]: Json } } {
  if (!grids.length) throw new Error(`sample run ${sampleRunId} has no gallery grids`);
  const first = grids[0];
  const figure: GalleryFigure = {
    kind: 'gallery',
    title: `Sample run ${sampleRunId}: matched seeds and classes`,
    columns: grids.map((g) => ({ title: `${cfgLabel(g)} · seeds ${g.seeds.join(',')}`, path: g.path })),
    rowLabels: first.classes.map((c) => classLabels[c] ?? `class ${c}`),
    footer: `sample run ${sampleRunId} · ${settingNote(grids[grids.length - 1])} · rows = classes, columns = seeds; each cell draws the same random stream in every grid`,
  };
  const provenance = {
    figure: 'gallery',
    sampleRun: sampleRunId,
    grids: grids.map((g) => ({ path: g.path, setting: g.setting, cfgScale: g.scale, schedule: g.schedule, power: g.power, temperature: g.temperature, classes: g.classes, seeds: g.seeds })),
    classes: figure.rowLabels,
  };
  return { name: `gallery-${sampleRunId}`, figure, provenance };
}
