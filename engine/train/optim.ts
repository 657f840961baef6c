// Adam / AdamW over a named variable map, with global-norm clipping and checkpointable state.
// Update rule follows torch.optim.Adam / AdamW (bias-corrected moments; AdamW decays decoupled).
import { tf } from '../tf';

export type VarMap = Record<string, tf.Variable>;
export type GradMap = Record<string, tf.Tensor>;

export interface OptimConfig {
  kind: 'adam' | 'adamw';
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** adamw: decoupled decay p ← p·(1 − lr·wd); adam: classic L2 added to the gradient. */
  weightDecay?: number;
  /** Which variables decay. Default: weights of rank ≥ 2 (no biases, norms, gains). */
  decays?: (name: string, v: tf.Variable) => boolean;
  /** Clip gradients to this global L2 norm (0 / undefined = off). */
  clipNorm?: number;
}

export interface OptimState {
  step: number;
  m: Record<string, Float32Array>;
  v: Record<string, Float32Array>;
}

/** Gradients of `f` for every trainable variable of `vars`, keyed like `vars`. Caller disposes. */
export function computeGrads(vars: VarMap, f: () => tf.Scalar): { value: tf.Scalar; grads: GradMap } {
  const list = Object.values(vars).filter((v) => v.trainable);
  const { value, grads } = tf.variableGrads(f, list);
  const out: GradMap = {};
  for (const [key, v] of Object.entries(vars)) if (grads[v.name]) out[key] = grads[v.name];
  return { value, grads: out };
}

/** Global L2 norm over a gradient map, as a scalar tensor. */
export function globalNorm(grads: GradMap): tf.Scalar {
  return tf.tidy(() => {
    const sq = Object.values(grads).map((g) => tf.sum(tf.square(g)));
    return tf.sqrt(sq.length ? tf.addN(sq) : tf.scalar(0)) as tf.Scalar;
  });
}

export class Optimizer {
  readonly cfg: Required<Omit<OptimConfig, 'decays'>> & { decays: (name: string, v: tf.Variable) => boolean };
  private m = new Map<string, tf.Variable>();
  private v = new Map<string, tf.Variable>();
  step = 0;

  constructor(
    private readonly vars: VarMap,
    cfg: OptimConfig,
  ) {
    this.cfg = {
      kind: cfg.kind,
      beta1: cfg.beta1 ?? 0.9,
      beta2: cfg.beta2 ?? 0.999,
      eps: cfg.eps ?? 1e-8,
      weightDecay: cfg.weightDecay ?? 0,
      clipNorm: cfg.clipNorm ?? 0,
      decays: cfg.decays ?? ((_n, v) => v.rank >= 2),
    };
  }

  private slot(map: Map<string, tf.Variable>, key: string, like: tf.Variable): tf.Variable {
    let s = map.get(key);
    if (!s) {
      s = tf.tidy(() => tf.variable(tf.zerosLike(like), false));
      map.set(key, s);
    }
    return s;
  }

  /**
   * One update with learning rate `lr`. Returns the global gradient norm before clipping
   * (a scalar the caller owns: read it lazily, dispose it). Does not dispose `grads`.
   */
  apply(grads: GradMap, lr: number): tf.Scalar {
    this.step += 1;
    const { beta1, beta2, eps, weightDecay, clipNorm, kind, decays } = this.cfg;
    const bc1 = 1 - Math.pow(beta1, this.step);
    const bc2 = 1 - Math.pow(beta2, this.step);
    const norm = globalNorm(grads);
    tf.tidy(() => {
      // clip scale = min(1, c / (‖g‖ + 1e-6)), as torch.nn.utils.clip_grad_norm_
      const scale = clipNorm > 0 ? tf.minimum(tf.scalar(1), tf.div(tf.scalar(clipNorm), tf.add(norm, 1e-6))) : null;
      for (const [key, p] of Object.entries(this.vars)) {
        const g0 = grads[key];
        if (!g0 || !p.trainable) continue;
        let g: tf.Tensor = scale ? tf.mul(g0, scale) : g0;
        const decay = weightDecay > 0 && decays(key, p);
        if (decay && kind === 'adam') g = tf.add(g, tf.mul(p, weightDecay));
        const m = this.slot(this.m, key, p);
        const v = this.slot(this.v, key, p);
        m.assign(tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1)));
        v.assign(tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2)));
        const upd = tf.div(tf.div(m, bc1), tf.add(tf.sqrt(tf.div(v, bc2)), eps));
        const base = decay && kind === 'adamw' ? tf.mul(p, 1 - lr * weightDecay) : p;
        p.assign(tf.sub(base, tf.mul(upd, lr)));
      }
    });
    return norm;
  }

  /** Moments and step as plain arrays, for checkpoints. */
  getState(): OptimState {
    const read = (map: Map<string, tf.Variable>) => {
      const out: Record<string, Float32Array> = {};
      for (const [k, t] of map) out[k] = t.dataSync() as Float32Array;
      return out;
    };
    return { step: this.step, m: read(this.m), v: read(this.v) };
  }

  setState(s: OptimState): void {
    this.step = s.step;
    const write = (map: Map<string, tf.Variable>, src: Record<string, Float32Array>) => {
      for (const [k, data] of Object.entries(src)) {
        const p = this.vars[k];
        if (!p) continue;
        const slot = this.slot(map, k, p);
        slot.assign(tf.tensor(data, p.shape, 'float32'));
      }
    };
    tf.tidy(() => {
      write(this.m, s.m);
      write(this.v, s.v);
    });
  }

  /** Zero the moments of some rows of a variable (e.g. restarted codebook entries). */
  resetRows(key: string, rows: number[]): void {
    const p = this.vars[key];
    if (!p || rows.length === 0) return;
    tf.tidy(() => {
      const keep = new Float32Array(p.shape[0]).fill(1);
      for (const r of rows) keep[r] = 0;
      const mask = tf.tensor(keep, [p.shape[0], ...p.shape.slice(1).map(() => 1)]);
      for (const map of [this.m, this.v]) {
        const s = map.get(key);
        if (s) s.assign(tf.mul(s, mask));
      }
    });
  }

  dispose(): void {
    for (const t of this.m.values()) t.dispose();
    for (const t of this.v.values()) t.dispose();
    this.m.clear();
    this.v.clear();
  }
}
