// How a job's progress reads, the same in the app and in the CLI: done/total, elapsed time, rate and
// ETA of this attempt, and where a resume continued from. Plain functions on the contract's Progress.
import type { Progress } from './contract';

/** 75 → "1 min 15 s", 3725 → "1 h 02 min", 4.2 → "4.2 s". */
export function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/** 2.345 → "2.35/s", 0.05 → "3.0/min". */
export function rate(perSecond: number): string {
  if (!Number.isFinite(perSecond) || perSecond <= 0) return '—';
  return perSecond >= 0.1 ? `${perSecond >= 100 ? perSecond.toFixed(0) : perSecond.toPrecision(3)}/s` : `${(perSecond * 60).toPrecision(2)}/min`;
}

export interface ProgressParts {
  /** "37/124" */
  count: string;
  /** 0..1, null when the total is unknown */
  fraction: number | null;
  elapsed: string | null;
  rate: string | null;
  eta: string | null;
  /** "resumed from step 900" / "restarted from step 0 (no checkpoint)" */
  resumed: string | null;
}

export function progressParts(p: Progress): ProgressParts {
  return {
    count: `${p.done}/${p.total}`,
    fraction: p.total > 0 ? Math.min(1, Math.max(0, p.done / p.total)) : null,
    elapsed: p.elapsedSeconds !== undefined ? duration(p.elapsedSeconds) : null,
    rate: p.rate !== undefined ? rate(p.rate) : null,
    eta: p.etaSeconds !== undefined ? duration(p.etaSeconds) : null,
    resumed: p.resumedFrom === undefined ? null : p.resumedFrom > 0 ? `resumed from step ${p.resumedFrom}` : 'restarted from step 0 (no checkpoint)',
  };
}

/** One line: "37/124 (30%) epoch 1/2 · 12.3 s elapsed · 2.10/s · ETA 41 s". */
export function progressLine(p: Progress): string {
  const x = progressParts(p);
  const parts = [`${x.count}${x.fraction !== null ? ` (${Math.floor(x.fraction * 100)}%)` : ''}${p.message ? ` ${p.message}` : ''}`];
  if (x.elapsed) parts.push(`${x.elapsed} elapsed`);
  if (x.rate) parts.push(x.rate);
  if (x.eta && p.done < p.total) parts.push(`ETA ${x.eta}`);
  if (x.resumed) parts.push(x.resumed);
  return parts.join(' · ');
}

/** A text progress bar for a terminal: "[########------------] ". */
export function progressBar(p: Progress, width = 24): string {
  const f = progressParts(p).fraction ?? 0;
  const n = Math.round(f * width);
  return `[${'#'.repeat(n)}${'-'.repeat(width - n)}]`;
}
