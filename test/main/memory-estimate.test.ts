// A tokenizer job that cannot fit is refused before it starts, with the estimate (issue "Reliability",
// item 6: widths 1024, K 65,536, batch 4,096 was accepted, ran 58 s, aborted and poisoned the engine).
import { describe, expect, it } from 'vitest';
import { TOKENIZER_PRESET_NAMES } from '../../engine/models/tokenizer-presets';
import { generatorMemoryProblem } from '../../engine/specs/train-generator';
import { tokenizerMemoryEstimate, tokenizerMemoryProblem, validateTrainTokenizerSpec } from '../../engine/specs/train-tokenizer';
import { jobMemoryLimitGiB } from '../../main/host/job-prep';

const spec = (o: Record<string, unknown>) => validateTrainTokenizerSpec({ datasetPath: 'datasets/x', ...o });

describe('tokenizer memory estimate', () => {
  it('refuses the absurd model with its estimate and the fix', () => {
    const absurd = spec({ preset: 'vq-f2-k64', batchSize: 4096, overrides: { widths: [1024, 1024], K: 65536 } });
    expect(tokenizerMemoryProblem(absurd, 16)?.message).toMatch(/^batchSize: with vq-f2-k64 and its overrides at 16 px, a training step needs ≈ \d+\.\d GiB \(activations ≈ \d+\.\d GiB\), more than the 3 GiB a job may use\. Lower batchSize, the widths or K/);
    // the estimate grows with the batch and the codebook
    const a = tokenizerMemoryEstimate(spec({ preset: 'vq-f2w-k1024', batchSize: 32 }), 32).bytes;
    const ratio = tokenizerMemoryEstimate(spec({ preset: 'vq-f2w-k1024', batchSize: 64 }), 32).bytes / a;
    expect(ratio).toBeGreaterThan(1.95); // all but the parameters scale with the batch
    expect(ratio).toBeLessThan(2);
    expect(tokenizerMemoryEstimate(spec({ preset: 'vq-f2w-k4096', batchSize: 32 }), 32).bytes).toBeGreaterThan(a);
  });

  it('accepts every preset at batch 32 up to 64 px', () => {
    for (const preset of TOKENIZER_PRESET_NAMES) for (const px of [16, 32, 64]) expect(tokenizerMemoryProblem(spec({ preset, batchSize: 32 }), px), `${preset} ${px}px`).toBeNull();
  });

  it('takes its limit from TOKLAB_MAX_JOB_MEMORY_GIB, refusing nonsense', () => {
    expect(jobMemoryLimitGiB({})).toBe(3);
    expect(jobMemoryLimitGiB({ TOKLAB_MAX_JOB_MEMORY_GIB: '12' })).toBe(12);
    expect(() => jobMemoryLimitGiB({ TOKLAB_MAX_JOB_MEMORY_GIB: 'lots' })).toThrow(/TOKLAB_MAX_JOB_MEMORY_GIB is "lots": give a positive number of GiB/);
    const big = spec({ preset: 'vq-f2w-k4096', batchSize: 256 });
    expect(tokenizerMemoryProblem(big, 64, 3)).not.toBeNull();
    expect(tokenizerMemoryProblem(big, 64, 64)).toBeNull();
  });

  it('refuses a generator whose batch × tokens × K cannot fit, and accepts the quick study sizes', () => {
    expect(generatorMemoryProblem(4096, 1024, 65536, 3)?.message).toMatch(/^batchSize: is 4096: with 1024 tokens per image and K = 65536 codes a training step needs ≈ \d+\.\d GiB \(logits ≈ \d+\.\d GiB\), more than the 3 GiB/);
    expect(generatorMemoryProblem(32, 64, 4096, 3)).toBeNull(); // the quick study's largest
    expect(generatorMemoryProblem(32, 256, 1024, 3)).toBeNull(); // 32 px at f 2
    expect(generatorMemoryProblem(512, 256, 4096, 3)).not.toBeNull();
  });
});
