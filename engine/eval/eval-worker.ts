// One evaluation worker (engine/eval/pool.ts): a worker thread with its own backend that loads the
// job's models from their run folders and computes whole batches: a tokenizer evaluation's
// reconstructions and features, or a gFID setting's samples, images and features.
import { parentPort } from 'node:worker_threads';
import { initBackend } from '../backend';
import { tf } from '../tf';
import { loadFeatureNet, loadFeatureNetIn, type LoadedFeatureNet } from '../features';
import { loadTokenizerModel, type TokenizerModel } from '../models/tokenizer-model';
import { labExtractor, loadOnnxExtractor, type Extractor } from '../models/extractor';
import { loadTokenizer, type VqTokenizer } from '../models/vq-tokenizer';
import { loadGenerator } from '../models/generator-store';
import type { Generator } from '../models/transformer';
import { INIT_ID } from '../workers';
import { evalTokenizerBatch, type TokenizerBatchEnv } from './tokenizer-batch';
import { generatorBatch, tokenizerDecoder, type ImageEmbedder, type SamplingOptions, type TokenDecoder } from './generator-batch';
import type { EvalWorkerReply, EvalWorkerRequest, EvalWorkerSetup } from './pool';

const port = parentPort;
if (!port) throw new Error('eval-worker runs as a worker thread');

let tokEnv: TokenizerBatchEnv | null = null;
let embedNet: LoadedFeatureNet | null = null;
let genEnv: { gen: Generator; decode: TokenDecoder; embed: ImageEmbedder; labels: Int32Array; sampling: SamplingOptions } | null = null;

function reply(m: EvalWorkerReply): void {
  port!.postMessage(m);
}

async function init(setup: EvalWorkerSetup): Promise<void> {
  const b = await initBackend();
  if (setup.job === 'embed') {
    embedNet = loadFeatureNetIn(setup.featureNetDir);
    reply({ type: 'ready', device: b.device, loaded: { extractorId: embedNet.id, identity: '' } });
    return;
  }
  if (setup.job === 'tokenizer') {
    let model: TokenizerModel | null = null;
    let ex: Extractor | null = null;
    try {
      model = await loadTokenizerModel(setup.tokenizerRunDir, { ema: setup.ema });
      ex = setup.extractor.kind === 'lab' ? labExtractor(loadFeatureNet(setup.extractor.datasetDir)) : await loadOnnxExtractor(setup.extractor.runDir);
    } catch (e) {
      await model?.dispose();
      throw e;
    }
    tokEnv = { model, extractor: ex, codes: model.codes(), cells: setup.cells, seed: setup.seed, needReal: setup.needReal };
    reply({ type: 'ready', device: b.device, loaded: { extractorId: ex.id, identity: JSON.stringify(model.identity) } });
    return;
  }
  const { gen, step } = loadGenerator(setup.generatorRunDir, { useEma: true });
  let tok: VqTokenizer | null = null;
  try {
    tok = loadTokenizer(setup.decoderRunDir);
    const net = loadFeatureNet(setup.datasetDir);
    genEnv = { gen, decode: tokenizerDecoder(tok), embed: (x, n) => net.embed(x, n), labels: setup.labels, sampling: setup.sampling };
    reply({ type: 'ready', device: b.device, loaded: { extractorId: net.id, identity: JSON.stringify({ generatorStep: step }) } });
  } catch (e) {
    tok?.dispose();
    gen.dispose();
    throw e;
  }
}

async function handle(m: EvalWorkerRequest): Promise<void> {
  if (m.type === 'init') return init(m.setup);
  if (m.type === 'tokenizer-batch') {
    if (!tokEnv) throw new Error('this worker holds no tokenizer evaluation');
    const out = await evalTokenizerBatch(tokEnv, m.x, m.bn, m.batchIndex);
    // copied, not transferred: an output may be a view of memory the backend keeps (batches are small)
    reply({ type: 'done', id: m.id, tokenizer: out, numTensors: tf.memory().numTensors });
    return;
  }
  if (m.type === 'embed-batch') {
    if (!embedNet) throw new Error('this worker holds no feature network');
    reply({ type: 'done', id: m.id, embedding: embedNet.embed(m.x, m.n), numTensors: tf.memory().numTensors });
    return;
  }
  if (!genEnv) throw new Error('this worker holds no generator evaluation');
  const out = await generatorBatch(genEnv, m.from, m.to, m.scale);
  reply({ type: 'done', id: m.id, generator: out, numTensors: tf.memory().numTensors });
}

port.on('message', (m: EvalWorkerRequest) => {
  const id = m.type === 'init' ? INIT_ID : m.id;
  handle(m).catch((e: unknown) => reply({ type: 'error', id, message: e instanceof Error ? e.message : String(e) }));
});
