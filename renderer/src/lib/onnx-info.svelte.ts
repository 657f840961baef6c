// What the import jobs of imported tokenizers and added extractors returned (the model's shape,
// hashes and options), loaded once per finished run and shared by every page that lists them
// (Tokenizers, Sweeps).
import type { JsonObject, RunSummary } from '../../../preload/contract';
import { lab } from './api';
import { extractorInfo, tokenizerInfo, type OnnxExtractorInfo, type OnnxTokenizerInfo } from './onnx';

class OnnxInfo {
  /** Run id → the config read (null: none readable). Absent: not loaded yet. */
  configs = $state.raw<Record<number, JsonObject | null>>({});
  errors = $state.raw<Record<number, string>>({});
  private started = new Set<number>();

  /** Loads what is missing for these runs (finished ones only: the file is written by the job). Call from an effect. */
  ensure(runs: RunSummary[]): void {
    for (const r of runs) {
      if (r.status !== 'done' || this.started.has(r.id)) continue;
      this.started.add(r.id);
      void this.load(r.id);
    }
  }

  private async load(id: number): Promise<void> {
    let cfg: JsonObject | null = null;
    try {
      // the import jobs return the model's shape, hashes and options as their result
      const d = await lab.getRun(id);
      cfg = [d.result, d.config].find((c) => tokenizerInfo(c) || extractorInfo(c)) ?? null;
    } catch (e) {
      this.errors = { ...this.errors, [id]: (e as Error).message };
    }
    this.configs = { ...this.configs, [id]: cfg };
  }

  tokenizer(id: number): OnnxTokenizerInfo | null {
    return tokenizerInfo(this.configs[id]);
  }

  extractor(id: number): OnnxExtractorInfo | null {
    return extractorInfo(this.configs[id]);
  }

  /** Forget a run (deleted; or resumed, so its file may change). */
  forget(id: number): void {
    this.started.delete(id);
    if (id in this.configs) {
      const rest = { ...this.configs };
      delete rest[id];
      this.configs = rest;
    }
  }
}

export const onnxInfo = new OnnxInfo();
