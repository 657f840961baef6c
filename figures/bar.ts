// One bar per tokenizer (mean over seeds) with its spread as an error bar, coloured by group
// (e.g. with / without latent perturbation).
import { colorAt } from './style';
import type { BarFigure, BarInput, Legend } from './types';

export function barFigure(input: BarInput): BarFigure {
  const rows = input.rows.filter((r) => Number.isFinite(r.value));
  const names = [...new Set(rows.map((r) => r.group ?? ''))];
  const groups: Legend[] = names.filter((g) => g !== '').map((g) => ({ name: g, color: colorAt(names.indexOf(g)) }));
  const seen = new Set<string>();
  const out = rows.map((r) => {
    const s = r.spread !== undefined && r.spread !== null && Number.isFinite(r.spread) ? Math.abs(r.spread) : null;
    // The category shown under the bar: the label, made unique if two rows share one.
    let key = r.label;
    if (seen.has(key) && r.group) key = `${r.label} (${r.group})`;
    for (let n = 2; seen.has(key); n++) key = `${r.label} #${n}`;
    seen.add(key);
    return { ...r, key, spread: s, color: colorAt(names.indexOf(r.group ?? '')), lo: s === null ? null : r.value - s, hi: s === null ? null : r.value + s };
  });
  const tops = out.map((r) => r.hi ?? r.value);
  const bottoms = out.map((r) => r.lo ?? r.value);
  const max = Math.max(0, ...tops);
  const min = Math.min(0, ...bottoms);
  const span = max - min || 1;
  return {
    kind: 'bar',
    title: input.title,
    xTitle: input.xTitle,
    yTitle: input.yTitle,
    rows: out,
    groups,
    yRange: input.yRange ? [input.yRange[0], input.yRange[1]] : [min < 0 ? min - span * 0.06 : 0, max > 0 ? max + span * 0.08 : 0],
  };
}
