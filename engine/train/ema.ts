// Exponential moving average of a named variable map; evaluation swaps it in (METHOD §1).
import { tf } from '../tf';
import type { VarMap } from './optim';

export class Ema {
  private shadow = new Map<string, tf.Variable>();
  updates = 0;

  /** `decay` e.g. 0.999; only trainable variables are tracked. */
  constructor(
    private readonly vars: VarMap,
    readonly decay: number,
  ) {
    tf.tidy(() => {
      for (const [k, v] of Object.entries(vars)) if (v.trainable) this.shadow.set(k, tf.variable(v.clone(), false));
    });
  }

  /**
   * Decay in force at the next update: min(decay, (1 + t)/(10 + t)) after t updates, as
   * tf.train.ExponentialMovingAverage with num_updates. Without the warm-up a short run's EMA
   * (decay 0.999, a few hundred steps) is still mostly the initial weights.
   */
  currentDecay(): number {
    const t = this.updates;
    return Math.min(this.decay, (1 + t) / (10 + t));
  }

  /** shadow ← d·shadow + (1 − d)·current, d = currentDecay(). */
  update(): void {
    const d = this.currentDecay();
    this.updates += 1;
    tf.tidy(() => {
      for (const [k, s] of this.shadow) s.assign(tf.add(tf.mul(s, d), tf.mul(this.vars[k], 1 - d)));
    });
  }

  /** Exchange live and EMA weights; call again to restore. */
  swap(): void {
    tf.tidy(() => {
      for (const [k, s] of this.shadow) {
        const live = this.vars[k].clone();
        this.vars[k].assign(s);
        s.assign(live);
      }
    });
  }

  /** Run `fn` with EMA weights in place, then restore the live weights (also on throw). */
  async withEma<T>(fn: () => T | Promise<T>): Promise<T> {
    this.swap();
    try {
      return await fn();
    } finally {
      this.swap();
    }
  }

  /** Copy of the EMA weights, for checkpoints. */
  getState(): Record<string, Float32Array> {
    const out: Record<string, Float32Array> = {};
    for (const [k, s] of this.shadow) out[k] = s.dataSync() as Float32Array;
    return out;
  }

  setState(src: Record<string, Float32Array>, updates = this.updates): void {
    this.updates = updates;
    tf.tidy(() => {
      for (const [k, data] of Object.entries(src)) {
        const s = this.shadow.get(k);
        if (s) s.assign(tf.tensor(data, s.shape, 'float32'));
      }
    });
  }

  dispose(): void {
    for (const s of this.shadow.values()) s.dispose();
    this.shadow.clear();
  }
}
