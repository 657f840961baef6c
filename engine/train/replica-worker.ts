// One data-parallel replica (engine/train/replicas.ts): a worker thread with its own wasm backend and
// a copy of the tokenizer or generator. Per step it loads the published weights, computes the
// gradients of its shard's loss into its shared gradient buffer and replies with the shard's loss
// terms (and, for a tokenizer, its code counts).
import { parentPort } from 'node:worker_threads';
import { initBackend } from '../backend';
import { tf } from '../tf';
import { createTokenizer, type VqTokenizer } from '../models/vq-tokenizer';
import { Generator } from '../models/transformer';
import { INIT_ID } from '../workers';
import { computeGrads, type GradMap, type VarMap } from './optim';
import type { ReplicaGenStep, ReplicaInit, ReplicaReply, ReplicaStep, SlotLayout } from './replicas';

const port = parentPort;
if (!port) throw new Error('replica-worker runs as a worker thread');

let tok: VqTokenizer | null = null;
let gen: Generator | null = null;
let params: VarMap = {};
let layout: SlotLayout[] = [];
let weights: Float32Array<ArrayBufferLike> = new Float32Array(0);
let grads: Float32Array<ArrayBufferLike> = new Float32Array(0);

function reply(m: ReplicaReply): void {
  port!.postMessage(m);
}

async function init(m: ReplicaInit): Promise<void> {
  const b = await initBackend();
  if (m.model.kind === 'tokenizer') {
    tok = createTokenizer(m.model.config, m.seed);
    params = tok.params;
  } else {
    gen = new Generator(m.model.config, m.seed);
    params = gen.weights;
  }
  layout = m.layout;
  weights = new Float32Array(m.weights);
  grads = new Float32Array(m.grads);
  for (const s of layout) {
    const v = params[s.key];
    if (!v || v.size !== s.size) throw new Error(`replica model has no variable ${s.key} of ${s.size} values: the configurations differ`);
  }
  reply({ type: 'ready', device: b.device });
}

/** The published weights into this replica's variables. */
function loadWeights(): void {
  tf.tidy(() => {
    for (const s of layout) params[s.key].assign(tf.tensor(weights.subarray(s.offset, s.offset + s.size), s.shape, 'float32'));
  });
}

/** Gradients into the shared buffer; the keys that have one. */
function writeGrads(g: GradMap): string[] {
  const present: string[] = [];
  for (const s of layout) {
    const gi = g[s.key];
    if (!gi) continue;
    grads.set(gi.dataSync() as Float32Array, s.offset);
    present.push(s.key);
  }
  return present;
}

function genStep(m: ReplicaGenStep): void {
  const g0 = gen as Generator;
  loadWeights();
  const { value, grads: g } = computeGrads(g0.weights, () => g0.loss(m.input, m.targets));
  const present = writeGrads(g);
  const loss = value.dataSync()[0];
  tf.dispose([value, ...Object.values(g)]);
  reply({ type: 'step', id: m.id, present, loss, numTensors: tf.memory().numTensors });
}

function step(m: ReplicaStep): void {
  const t = tok as VqTokenizer;
  const c = t.config;
  loadWeights();
  const x = tf.tensor4d(m.x, [m.n, c.imageSize, c.imageSize, c.channels]);
  let aux: tf.Tensor[] = [];
  let changed = 0;
  let candidates = 0;
  const { value, grads: g } = computeGrads(t.params, () => {
    const l = t.losses(x, m.lp ?? undefined);
    aux = [l.recon, l.codebook, l.commit, l.counts, ...(m.wantZ ? [l.z] : [])].map((a) => tf.keep(a));
    changed = l.draw ? l.draw.changed : 0;
    candidates = l.draw ? l.draw.candidates : 0;
    return l.loss;
  });
  const present = writeGrads(g);
  const scalars = tf.tidy(() => tf.stack([value, aux[0], aux[1], aux[2]]).dataSync() as Float32Array);
  const counts = aux[3].dataSync() as Float32Array;
  const z = m.wantZ ? (aux[4].dataSync() as Float32Array) : null;
  tf.dispose([x, value, ...aux, ...Object.values(g)]);
  reply({
    type: 'step',
    id: m.id,
    present,
    loss: scalars[0],
    recon: scalars[1],
    codebook: scalars[2],
    commit: scalars[3],
    counts,
    changed,
    candidates,
    z,
    numTensors: tf.memory().numTensors,
  });
}

port.on('message', (m: ReplicaInit | ReplicaStep | ReplicaGenStep) => {
  const id = m.type === 'init' ? INIT_ID : m.id;
  Promise.resolve()
    .then(() => (m.type === 'init' ? init(m) : m.type === 'gen-step' ? genStep(m) : step(m)))
    .catch((e: unknown) => reply({ type: 'error', id, message: e instanceof Error ? e.message : String(e) }));
});
