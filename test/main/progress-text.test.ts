// Progress text shared by the app and the CLI, and the CLI's printer: a redrawn bar on a terminal,
// throttled plain lines on a pipe (one per 10 % or per 30 s, plus the last), never a flood.
import { describe, expect, it } from 'vitest';
import { progressPrinter } from '../../main/cli/util';
import { duration, progressLine, progressParts, rate } from '../../preload/progress';

describe('progress text', () => {
  it('formats durations, rates and the resume note', () => {
    expect(duration(4.24)).toBe('4.2 s');
    expect(duration(75)).toBe('1 min 15 s');
    expect(duration(3725)).toBe('1 h 02 min');
    expect(rate(2.345)).toBe('2.35/s');
    expect(rate(0.05)).toBe('3.0/min');
    expect(progressParts({ done: 1, total: 4, resumedFrom: 900 }).resumed).toBe('resumed from step 900');
    expect(progressParts({ done: 1, total: 4, resumedFrom: 0 }).resumed).toBe('restarted from step 0 (no checkpoint)');
    expect(progressLine({ done: 37, total: 124, message: 'epoch 1/2', elapsedSeconds: 12.3, rate: 2.1, etaSeconds: 41.4 })).toBe(
      '37/124 (29%) epoch 1/2 · 12 s elapsed · 2.10/s · ETA 41 s',
    );
    // no rate yet: no ETA is made up
    expect(progressLine({ done: 0, total: 10, elapsedSeconds: 0.2 })).toBe('0/10 (0%) · 0.2 s elapsed');
  });

  it('prints plain lines on a pipe at most once per tenth (or 30 s), and the last one', () => {
    const out: string[] = [];
    let t = 0;
    const p = progressPrinter({ write: (s: string) => out.push(s) > 0, isTTY: false }, () => t);
    for (let i = 1; i <= 1000; i++) {
      t += 10;
      p.progress({ done: i, total: 1000 });
    }
    p.end();
    // 1000 reports → the first of each tenth (1, 100, 200, …, 1000) and nothing else
    expect(out).toHaveLength(11);
    expect(out.every((l) => l.endsWith('\n') && !l.includes('\r'))).toBe(true);
    expect(out[out.length - 1]).toMatch(/1000\/1000 \(100%\)/);
    // a slow job still reports every 30 s
    const slow: string[] = [];
    t = 0;
    const q = progressPrinter({ write: (s: string) => slow.push(s) > 0, isTTY: false }, () => t);
    for (let i = 1; i <= 20; i++) {
      t += 10_000;
      q.progress({ done: i, total: 1000 });
    }
    expect(slow.length).toBeGreaterThanOrEqual(6);
    expect(slow.length).toBeLessThanOrEqual(8);
  });

  it('redraws one line with a bar on a terminal', () => {
    const out: string[] = [];
    const p = progressPrinter({ write: (s: string) => out.push(s) > 0, isTTY: true });
    p.progress({ done: 5, total: 10 });
    p.line('[warn] something');
    p.progress({ done: 10, total: 10 });
    p.end();
    expect(out[0]).toMatch(/^\r\x1b\[2K {2}\[#{12}-{12}\] 5\/10 \(50%\)/);
    expect(out.join('')).toContain('[warn] something\n');
    expect(out[out.length - 1]).toBe('\n');
  });
});
