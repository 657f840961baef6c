// Helpers of the Generate page: the gallery grids of a sample run and their labels (shared with
// `toklab export figure gallery`, figures/gallery.ts), and gFID/IS-vs-CFG points from scores.
import type { ScoreRow } from '../../../preload/contract';

export { cfgLabel, classNames, galleryExport, galleryGrids, gridOf, type GalleryGrid } from '../../../figures/gallery';

/** One metric of one evaluation run against its CFG scale (provenance cfg.scale; 0 = without CFG). */
export function cfgPoints(rows: ScoreRow[], metric: string, runId: number): { scale: number; value: number; row: ScoreRow }[] {
  return rows
    .filter((r) => r.runId === runId && r.metric === metric)
    .map((r) => {
      const cfg = r.provenance.cfg as { scale?: unknown } | undefined;
      return { scale: typeof cfg?.scale === 'number' ? cfg.scale : 0, value: r.value, row: r };
    })
    .sort((a, b) => a.scale - b.scale);
}
