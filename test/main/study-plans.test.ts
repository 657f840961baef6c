// The study plans themselves (no engine): what issue "Trustworthy numbers" asks of the quick and standard
// zoos — token grids of at least 8×8, every ±LP pair on two seeds or more, and enough tokenizer runs with a
// gFID that the correlations are not computed over fewer than 6 points.
import { describe, expect, it } from 'vitest';
import { STUDY_PLANS, longestFirst, planFor } from '../../main/host/study';
import { TOKENIZER_PRESETS } from '../../engine/models/tokenizer-presets';

describe.each(['quick', 'standard'])('study plan %s', (name) => {
  const plan = STUDY_PLANS[name];
  it('gives every tokenizer a token grid of at least 8×8', () => {
    for (const t of plan.tokenizers) {
      const p = TOKENIZER_PRESETS[t.preset];
      expect(p, t.preset).toBeDefined();
      expect(plan.dataset.resolution / p.f, `${t.key}: ${plan.dataset.resolution} px / f ${p.f}`).toBeGreaterThanOrEqual(8);
    }
  });
  it('trains each ±LP pair on at least two seeds, the same seeds on both sides', () => {
    const pairs = new Map<string, number[][]>();
    for (const t of plan.tokenizers) if (t.pair) pairs.set(t.pair, [...(pairs.get(t.pair) ?? []), t.seeds]);
    expect(pairs.size).toBeGreaterThan(0);
    for (const [pair, sides] of pairs) {
      expect(sides, pair).toHaveLength(2);
      expect(sides[0], pair).toEqual(sides[1]);
      expect(sides[0].length, pair).toBeGreaterThanOrEqual(2);
      const [a, b] = plan.tokenizers.filter((t) => t.pair === pair);
      expect([a.lp === null, b.lp === null].sort(), `${pair}: one side with LP, one without`).toEqual([false, true]);
      expect(a.steps, `${pair}: same budget`).toBe(b.steps);
      expect(a.preset, `${pair}: same preset`).toBe(b.preset);
    }
  });
  it('has a raster generator on every tokenizer run, so ρ(·, gFID) has at least 6 points', () => {
    const runs = plan.tokenizers.reduce((n, t) => n + t.seeds.length, 0);
    expect(runs).toBeGreaterThanOrEqual(6);
    expect(plan.generators.find((g) => g.arch === 'raster')?.tokenizers).toBe('all');
  });
  it('keeps its zoo on MNIST', () => {
    const m = planFor(name, 'mnist');
    expect(m.dataset.source).toBe('mnist');
    expect(m.tokenizers).toEqual(plan.tokenizers);
  });
});

describe('study queue order', () => {
  it('queues the longest tokenizer chain first and keeps plan order among equal budgets', () => {
    const chains = STUDY_PLANS.quick.tokenizers.flatMap((t) => t.seeds.map((seed) => ({ t, seed })));
    const order = longestFirst(chains);
    expect(order[0].t.key).toBe('k4096');
    expect(order.map((c) => c.t.steps)).toEqual([...order.map((c) => c.t.steps)].sort((a, b) => b - a));
    const equal = order.filter((c) => c.t.steps === 1000).map((c) => c.i);
    expect(equal).toEqual([...equal].sort((a, b) => a - b));
    expect(order.map((c) => c.i).sort((a, b) => a - b)).toEqual(chains.map((_, i) => i)); // every chain once
  });
});
