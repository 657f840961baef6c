// Side-by-side images of compared runs: one row per kind of picture and setting at the same seeds
// (a recon grid, a CFG 1.5 gallery on seeds 0–3, …), one column per run, the newest image of each.
// Pure (test/main/renderer-run-columns.test.ts).
import type { Artifact, JsonValue } from '../../../preload/contract';

export interface ImageRow {
  key: string;
  /** e.g. "recon-grid", "sample-grid · cfg1.5 · seeds 0,1,2,3". */
  label: string;
  /** One per compared run (in the order given), null where the run has no such image. */
  cells: (Artifact | null)[];
}

const seedsOf = (meta: Record<string, JsonValue>): string | null => {
  const s = meta.seeds ?? meta.seed;
  if (Array.isArray(s)) return s.join(',');
  return typeof s === 'number' ? String(s) : null;
};

/** What makes two images comparable: the same kind, setting and seeds (the epoch is not part of it). */
export function imageKey(a: Artifact): { key: string; label: string } {
  const setting = typeof a.meta.setting === 'string' ? a.meta.setting : null;
  const seeds = seedsOf(a.meta);
  const parts = [a.kind, setting, seeds !== null ? `seeds ${seeds}` : null].filter((x): x is string => x !== null);
  return { key: parts.join('|'), label: parts.join(' · ') };
}

const isImage = (a: Artifact): boolean => /\.(png|jpe?g|webp)$/i.test(a.path);
const epochOf = (a: Artifact): number => (typeof a.meta.epoch === 'number' ? a.meta.epoch : -1);

/** Rows of matched images; within a run and key the newest (highest epoch, then latest id) wins. */
export function matchImages(images: { runId: number; artifacts: Artifact[] }[], runIds: number[]): ImageRow[] {
  const rows = new Map<string, ImageRow>();
  runIds.forEach((runId, col) => {
    const arts = images.find((i) => i.runId === runId)?.artifacts ?? [];
    for (const a of arts.filter(isImage)) {
      const { key, label } = imageKey(a);
      const row = rows.get(key) ?? { key, label, cells: runIds.map(() => null) };
      const cur = row.cells[col];
      if (!cur || epochOf(a) > epochOf(cur) || (epochOf(a) === epochOf(cur) && a.id > cur.id)) row.cells[col] = a;
      rows.set(key, row);
    }
  });
  // rows that every run has first, then by label
  return [...rows.values()].sort((a, b) => b.cells.filter(Boolean).length - a.cells.filter(Boolean).length || a.label.localeCompare(b.label));
}
