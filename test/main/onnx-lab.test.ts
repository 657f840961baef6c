// The lab side of tokenizers and extractors trained elsewhere: import and register through jobs on the
// real engine, a pFID sweep on an imported tokenizer with an ONNX extractor, and the host's refusals
// (no dataset, a dataset at another size, a job that needs a lab-trained tokenizer).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// the command table first: commands-train and commands import each other, and the bin loads them in this order
import '../../main/cli/commands';
import { evalTarget } from '../../main/cli/commands-eval';
import { cleanupsAfterEach, openTestLab, tempHome } from './helpers';

const FX = join(__dirname, '..', 'fixtures', 'onnx');
const onCleanup = cleanupsAfterEach();

describe('CLI --dataset and --extractor', () => {
  it('reads a dataset id as a number and a name as text, an extractor as a run id', () => {
    expect(evalTarget({ dataset: '3', extractor: '7' })).toEqual({ dataset: 3, extractor: 7 });
    expect(evalTarget({ dataset: 'imagenet-256' })).toEqual({ dataset: 'imagenet-256' });
    expect(evalTarget({})).toEqual({});
    expect(() => evalTarget({ dataset: true })).toThrow(/--dataset takes a dataset id or name/);
    expect(() => evalTarget({ extractor: 'fx' })).toThrow(/--extractor takes a whole number/);
  });
});

describe('ONNX tokenizers and extractors in a lab', () => {
  it('imports, registers, sweeps with the ONNX extractor, and refuses what cannot work with the fix', async () => {
    const t = tempHome();
    onCleanup(t.cleanup);
    const lab = openTestLab(t.home);
    onCleanup(() => lab.close());
    const ds = await lab.waitForRun((await lab.startJob({ kind: 'dataset-build', spec: { source: 'shapes', resolution: 16, trainCount: 32, valCount: 96, name: 's16' } })).id);
    expect(ds.status).toBe('done');
    const ds32 = await lab.waitForRun((await lab.startJob({ kind: 'dataset-build', spec: { source: 'shapes', resolution: 32, trainCount: 8, valCount: 8, name: 's32' } })).id);
    expect(ds32.status).toBe('done');

    const tok = await lab.waitForRun((await lab.startJob({ kind: 'import-tokenizer', spec: { encoder: join(FX, 'encoder.onnx'), decoder: join(FX, 'decoder.onnx'), codebook: join(FX, 'codebook.npy'), l2: true, name: 'fixture' } })).id);
    expect(tok).toMatchObject({ status: 'done', kind: 'external-tokenizer', name: 'fixture', datasetId: null });
    const ex = await lab.waitForRun((await lab.startJob({ kind: 'add-extractor', spec: { model: join(FX, 'extractor.onnx'), name: 'fx', input: 24 } })).id);
    expect(ex).toMatchObject({ status: 'done', kind: 'extractor' });

    // refused before anything is queued, each with the fix
    await expect(lab.createSweep({ tokenizers: [tok.id], alphas: [0.5], deltas: [4], deltaMode: 'abs', extractor: ex.id })).rejects.toThrow(/run \d+ is an imported tokenizer and has no dataset of its own; give the dataset to evaluate on \(CLI: --dataset\), with 16 px images/);
    await expect(lab.startJob({ kind: 'eval-tokenizer', spec: { tokenizer: tok.id, dataset: 's32', extractor: ex.id } })).rejects.toThrow(/dataset: s32 holds 32 px images with 3 channel\(s\), but tokenizer \d+ takes 16 px with 3/);
    await expect(lab.startJob({ kind: 'eval-tokenizer', spec: { tokenizer: tok.id, dataset: 's16', extractor: tok.id } })).rejects.toThrow(/extractor: run \d+ is a external-tokenizer run, not a extractor run/);
    await expect(lab.startJob({ kind: 'extract-tokens', spec: { tokenizer: tok.id } })).rejects.toThrow(/run \d+ is a external-tokenizer run, not a tokenizer or post-train run/);
    await expect(lab.startJob({ kind: 'import-tokenizer', spec: { encoder: 'encoder.onnx', decoder: join(FX, 'decoder.onnx'), codebook: join(FX, 'codebook.npy'), name: 'x' } })).rejects.toThrow(/encoder: is "encoder\.onnx", a relative path/);

    const sweep = await lab.createSweep({ tokenizers: [tok.id], alphas: [0.5, 1], deltas: [4, 8], deltaMode: 'abs', n: 64, dataset: 's16', extractor: ex.id });
    const run = await lab.waitForRun(sweep.runs[0].id);
    expect(run.status, run.error ?? '').toBe('done');
    expect(run.parentId).toBe(tok.id);
    const scores = await lab.listScores({ runIds: [run.id] });
    const pfid = scores.filter((s) => s.metric === 'eval/pfid');
    expect(pfid.length).toBe(4);
    const extractorId = (await lab.getRun(ex.id)).result?.id;
    expect(extractorId).toMatch(/^onnx-/);
    for (const s of scores) expect(s.provenance).toMatchObject({ extractorId, extractorKind: 'onnx', tokenizerKind: 'onnx', n: 64 });
    // no lab feature network was trained for it
    expect((await lab.listRuns({ kind: 'feature-net' })).length).toBe(0);
  }, 240_000);
});
