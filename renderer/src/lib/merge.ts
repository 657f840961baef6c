// Merges stored metric series (from the database) with live points that arrived since.
import type { MetricSeries } from '../../../preload/contract';

export function mergeSeries(stored: MetricSeries[], live: Record<string, MetricSeries> | undefined): MetricSeries[] {
  const out = new Map(stored.map((s) => [s.name, s]));
  for (const l of Object.values(live ?? {})) {
    const s = out.get(l.name);
    if (!s) {
      out.set(l.name, l);
      continue;
    }
    const last = s.steps.length ? s.steps[s.steps.length - 1] : -Infinity;
    const steps = [...s.steps];
    const values = [...s.values];
    l.steps.forEach((st, i) => {
      if (st > last) {
        steps.push(st);
        values.push(l.values[i]);
      }
    });
    out.set(l.name, { name: l.name, steps, values });
  }
  return [...out.values()];
}

export function fmt(v: number | null | undefined, digits = 4): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  return Math.abs(v) >= 1000 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(2) : v.toPrecision(digits);
}
