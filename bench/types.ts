// Shape of one benchmark measurement; bench/run.ts collects them into bench/results/.
export interface BenchResult {
  /** e.g. 'conv-autoencoder step', 'fid 2048-d 10k'. */
  name: string;
  backend?: string;
  value: number;
  unit: string;
  /** Free-form context: sizes, repetitions, comparison ratios. */
  details?: Record<string, string | number | boolean>;
}

export type Bench = () => Promise<BenchResult[]>;
