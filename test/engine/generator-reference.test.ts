// The transformer's logits and loss against an independent float64 NumPy implementation
// (test/fixtures/generator/make_reference.py), for raster + LayerNorm and RAR + RMSNorm.
import fs from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../engine/tf';
import { Generator, type GeneratorConfig } from '../../engine/models/transformer';

interface RefCase {
  cfg: GeneratorConfig;
  weights: Record<string, { shape: number[]; data: number[] }>;
  input: { ids: number[]; pos: number[]; targetPos: number[]; batch: number; length: number };
  targets: number[];
  expected: { logits: number[]; loss: number };
}

const cases = JSON.parse(fs.readFileSync(new URL('../fixtures/generator/reference.json', import.meta.url), 'utf8')) as RefCase[];

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('generator vs NumPy reference', () => {
  for (const c of cases) {
    it(`${c.cfg.arch} / ${c.cfg.norm}: logits and loss match`, () => {
      const gen = new Generator(c.cfg, 0);
      const values: Record<string, Float32Array> = {};
      for (const [k, v] of Object.entries(c.weights)) values[k] = Float32Array.from(v.data);
      expect(Object.keys(values).sort()).toEqual(Object.keys(gen.weights).sort());
      gen.importWeights(values);
      const input = {
        ids: Int32Array.from(c.input.ids),
        pos: Int32Array.from(c.input.pos),
        targetPos: Int32Array.from(c.input.targetPos),
        batch: c.input.batch,
        length: c.input.length,
      };
      const logits = gen.forward(input);
      const got = logits.dataSync();
      let maxErr = 0;
      c.expected.logits.forEach((v, i) => (maxErr = Math.max(maxErr, Math.abs(v - got[i]))));
      expect(maxErr).toBeLessThan(2e-4);
      const loss = gen.loss(input, Int32Array.from(c.targets));
      expect(loss.dataSync()[0]).toBeCloseTo(c.expected.loss, 4);
      tf.dispose([logits, loss]);
      gen.dispose();
    });
  }
});
