// Reads the report the host stores in a dataset's meta (engine/jobs/dataset-build.ts result):
// classes, per-class counts, previews, skipped files. Tolerates missing fields of older builds.
import type { Dataset, JsonValue } from '../../../preload/contract';

export interface ClassRow {
  name: string;
  train: number;
  val: number;
  /** Per-class preview strip (relative to the lab home), when the build wrote one. */
  preview: string | null;
}

export interface DatasetReport {
  classes: ClassRow[];
  totals: { train: number; val: number };
  /** The overview grid (one row of examples per class), relative to the lab home. */
  grid: string | null;
  skipped: { file: string; reason: string }[];
  skippedCount: number;
  resize: string;
}

const nums = (v: JsonValue | undefined): number[] => (Array.isArray(v) ? v.map((x) => (typeof x === 'number' ? x : 0)) : []);
const strs = (v: JsonValue | undefined): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

export function datasetReport(d: Dataset): DatasetReport {
  const m = d.meta;
  const names = strs(m.classes);
  const counts = (m.classCounts && typeof m.classCounts === 'object' && !Array.isArray(m.classCounts) ? m.classCounts : {}) as Record<string, JsonValue>;
  const train = nums(counts.train);
  const val = nums(counts.val);
  const previews = strs(m.previews);
  const n = Math.max(names.length, train.length, val.length, d.numClasses);
  const classes = Array.from({ length: n }, (_, i) => ({
    name: names[i] ?? `class ${i}`,
    train: train[i] ?? 0,
    val: val[i] ?? 0,
    preview: previews[i + 1] ?? null,
  }));
  const skipped = Array.isArray(m.skipped)
    ? m.skipped.flatMap((s) => (s && typeof s === 'object' && !Array.isArray(s) ? [{ file: String(s.file ?? ''), reason: String(s.reason ?? '') }] : []))
    : [];
  return {
    classes,
    totals: { train: classes.reduce((a, c) => a + c.train, 0), val: classes.reduce((a, c) => a + c.val, 0) },
    grid: previews[0] ?? null,
    skipped,
    skippedCount: typeof m.skippedCount === 'number' ? m.skippedCount : skipped.length,
    resize: typeof m.resize === 'string' ? m.resize : '—',
  };
}
