// Lab-wide settings read from the environment and flags: the extractor-accuracy floor for built-in
// datasets (TOKLAB_MIN_EXTRACTOR_ACCURACY) and the engine count of `toklab study` (--engines,
// TOKLAB_ENGINES); and the extractor accuracy the renderer prints beside every FID.
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { builtInFloor } from '../../main/host/job-prep';
import { engineCount } from '../../main/cli/util';
import { extractorText, gridProvenance, pfidGrid } from '../../renderer/src/lib/sweep-data';

describe('settings', () => {
  it('the built-in floor is 0.9 unless the lab lowers it, and a bad value is refused by name', () => {
    expect(builtInFloor({})).toBe(0.9);
    expect(builtInFloor({ TOKLAB_MIN_EXTRACTOR_ACCURACY: '0' })).toBe(0);
    expect(builtInFloor({ TOKLAB_MIN_EXTRACTOR_ACCURACY: '0.75' })).toBe(0.75);
    expect(() => builtInFloor({ TOKLAB_MIN_EXTRACTOR_ACCURACY: '1.5' })).toThrow(/TOKLAB_MIN_EXTRACTOR_ACCURACY is "1.5"/);
    expect(() => builtInFloor({ TOKLAB_MIN_EXTRACTOR_ACCURACY: 'high' })).toThrow(/give a number from 0 to 1/);
  });

  it('engines: the flag wins over the environment, the default is the core count, nonsense is refused', () => {
    expect(engineCount('3', { TOKLAB_ENGINES: '5' })).toBe(3);
    expect(engineCount(undefined, { TOKLAB_ENGINES: '5' })).toBe(5);
    expect(engineCount(undefined, {})).toBe(Math.max(1, Math.min(8, availableParallelism())));
    expect(() => engineCount('0', {})).toThrow(/engines: "0"/);
    expect(() => engineCount('2.5', {})).toThrow(/whole number/);
  });

  it('a pFID grid carries its extractor accuracy into the text shown with it', () => {
    const g = pfidGrid({ extractorId: 'ab12', extractorAccuracy: 0.934, alphas: [0.5], deltasAbs: [4], deltasShare: [0.0625], pfid: [[10]], n: 100, K: 64 });
    expect(g?.extractorAccuracy).toBe(0.934);
    expect(gridProvenance(g!)).toMatch(/^extractor ab12 \(test acc 0\.93\) · N 100/);
    expect(extractorText('cd34', null)).toBe('extractor cd34 (test acc unknown)');
  });
});
