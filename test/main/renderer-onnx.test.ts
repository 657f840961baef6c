// The renderer's ONNX helpers (issue 14): the import-tokenizer and add-extractor specs the forms
// send, K/D/grid and the extractor id read from a run folder's config.json, and the provenance text
// of a score computed in an external extractor (no accuracy, said so instead of "unknown"/null).
import { describe, expect, it } from 'vitest';
import { addExtractorSpec, DEFAULT_ONNX_EXTRACTOR_FORM, DEFAULT_ONNX_TOKENIZER_FORM, importTokenizerSpec } from '../../renderer/src/lib/job-forms';
import { datasetMismatch, extractorInfo, extractorSummary, tokenizerInfo, tokenizerSummary } from '../../renderer/src/lib/onnx';
import { extractorText, gridProvenance, pfidGrid, provText } from '../../renderer/src/lib/sweep-data';

describe('form specs', () => {
  it('import-tokenizer: trimmed paths and name, size and channels only when given', () => {
    const v = { ...DEFAULT_ONNX_TOKENIZER_FORM, encoder: ' /a/enc.onnx ', decoder: '/a/dec.onnx', codebook: '/a/codes.npy', name: ' fx ', l2: true };
    expect(importTokenizerSpec(v)).toEqual({ encoder: '/a/enc.onnx', decoder: '/a/dec.onnx', codebook: '/a/codes.npy', name: 'fx', l2: true, layout: 'nchw', range: '-1,1' });
    expect(importTokenizerSpec({ ...v, size: 16, channels: 3, layout: 'nhwc', range: '0,1' })).toMatchObject({ size: 16, channels: 3, layout: 'nhwc', range: '0,1' });
    // an emptied number field (null/undefined) or junk is left to the model's declared shape
    expect(importTokenizerSpec({ ...v, size: 0 })).not.toHaveProperty('size');
    expect(importTokenizerSpec({ ...v, size: undefined as unknown as null })).not.toHaveProperty('size');
    // an empty name is sent: the host's refusal names it
    expect(importTokenizerSpec({ ...v, name: '  ' }).name).toBe('');
  });

  it('add-extractor: input 299 and range 0,1 by default, output names only when given', () => {
    const v = { ...DEFAULT_ONNX_EXTRACTOR_FORM, model: '/m/inception.onnx', name: 'inc' };
    expect(addExtractorSpec(v)).toEqual({ model: '/m/inception.onnx', name: 'inc', input: 299, range: '0,1', layout: 'nchw' });
    expect(addExtractorSpec({ ...v, input: 24, features: ' features ', logits: 'logits' })).toMatchObject({ input: 24, features: 'features', logits: 'logits' });
  });
});

describe('run folder config', () => {
  const tok = {
    kind: 'onnx-tokenizer',
    model: { imageSize: 16, channels: 3, K: 64, D: 8, h: 8, w: 8, f: 2, codebookNorm: 'l2', layout: 'nchw', range: '-1,1' },
    hashes: { encoder: 'a'.repeat(64), decoder: 'b'.repeat(64), codebook: 'c'.repeat(64) },
  };

  it('reads K, D and the grid of an imported tokenizer', () => {
    const t = tokenizerInfo(tok);
    expect(t).toMatchObject({ K: 64, D: 8, h: 8, w: 8, f: 2, imageSize: 16, channels: 3, codebookNorm: 'l2' });
    expect(t?.hashes.codebook).toBe('c'.repeat(64));
    expect(tokenizerSummary(t!)).toBe('K 64 · D 8 · 8×8 tokens (f 2) · 16 px × 3 · cosine (L2)');
    // a flat result works too; f from the sizes when not given
    expect(tokenizerInfo({ K: 32, D: 4, h: 4, imageSize: 16 })).toMatchObject({ K: 32, w: 4, f: 4 });
    expect(tokenizerInfo({ kind: 'vq-tokenizer' })).toBeNull();
    expect(tokenizerInfo(null)).toBeNull();
  });

  it('says when a dataset does not fit the imported tokenizer', () => {
    const t = tokenizerInfo(tok);
    expect(datasetMismatch(t, { resolution: 16, channels: 3 })).toBeNull();
    expect(datasetMismatch(t, { resolution: 32, channels: 3 })).toMatch(/16 px.*32 px/);
    expect(datasetMismatch(t, { resolution: 16, channels: 1 })).toMatch(/3 channel/);
    expect(datasetMismatch(null, { resolution: 32, channels: 1 })).toBeNull();
  });

  it('reads an extractor', () => {
    const e = extractorInfo({ kind: 'onnx-extractor', id: 'onnx-0123456789abcdef', input: 24, range: '0,1', layout: 'nchw', features: 'features', logits: 'logits', featureDim: 32, numClasses: 10 });
    expect(extractorSummary(e!)).toBe('onnx-0123456789abcdef · 24 px in [0,1] · 32 features · 10 classes');
    expect(extractorSummary({ ...e!, numClasses: null })).toMatch(/no logits$/);
    expect(extractorInfo({ kind: 'onnx-extractor' })).toBeNull();
  });
});

describe('extractor provenance', () => {
  it('an ONNX extractor is named as external with no accuracy; a lab one keeps its accuracy', () => {
    expect(extractorText('onnx-0123456789abcdef', null)).toBe('extractor onnx-0123456789abcdef (external, no accuracy)');
    expect(extractorText('lab-1', 0.934)).toBe('extractor lab-1 (test acc 0.93)');
    expect(extractorText('whatever', null, 'onnx')).toBe('extractor whatever (external, no accuracy)');
  });

  it('the pFID grid of an ONNX extractor shows no NaN or "unknown" accuracy', () => {
    const g = pfidGrid({ extractorId: 'onnx-ab', extractorAccuracy: null, rfid: 5, pfidMean: 6, alphas: [0.5], deltasAbs: [4], deltasShare: [0.0625], pfid: [[6]], n: 64, K: 64 });
    expect(gridProvenance(g!)).toMatch(/^extractor onnx-ab \(external, no accuracy\) · N 64/);
  });

  it('provText replaces extractorId/Accuracy/Kind of an external extractor, and leaves a lab one as it was', () => {
    const onnx = { extractorId: 'onnx-ab', extractorKind: 'onnx', extractorAccuracy: null, n: 64 };
    expect(provText(onnx)).toBe('extractor onnx-ab (external, no accuracy) · n=64');
    expect(provText(onnx, ['extractorId', 'extractorAccuracy', 'n'])).toBe('extractor onnx-ab (external, no accuracy) · n=64');
    expect(provText({ extractorId: 'lab-1', extractorAccuracy: 0.9, split: 'val' })).toBe('extractorId=lab-1 · extractorAccuracy=0.9 · split=val');
    expect(provText({ extractorId: 'lab-1', split: 'val' }, undefined, true)).toBe('extractorId="lab-1" · split="val"');
  });
});
