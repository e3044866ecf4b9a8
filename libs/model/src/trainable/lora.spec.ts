// LoRA inside the real packaged use-lite encoder: the tensors a spec implies, that a fresh pair leaves the
// packaged features unchanged, that training reaches the pairs through the encoder, and that nothing leaks.
import * as tf from '@tensorflow/tfjs-core';
import type { LoraSpec, ModelSpec, NamedTensor } from '@fedtl/protocol';
import { configureLogging, seededRandom, type ErrorCode } from '@fedtl/util';
import { loadTrainableUseLite, type TrainableUseLite } from '../backbone/use-lite-trainable';
import { AdapterHeadModel } from './adapter-head-model';
import { lengthGroupedBatches, statesBatch, type LabelledEncoderStates } from './encoder-states';
import { evaluate } from './evaluation';
import { MICRO_BATCH_TOKENS, featuresOf, microBatches, trainLocally } from './local-training';
import { LORA_PREFIX, USE_LITE_PROJECTION_SHAPES, checkLoraSpec, loraTensorSpecs } from './lora-spec';
import { initialWeights, trainableTensorSpecs } from './trainable-spec';

const GOOD = 'great wonderful excellent loved perfect works beautifully highly recommend'.split(' ');
const BAD = 'awful broken terrible hated useless returned waste disappointing refund'.split(' ');

/** Short reviews of 1 to 40 words, half of each sentiment, plus an empty text and one past the 128-token cap. */
function reviews(count: number, seed: number): { texts: string[]; labels: Int32Array } {
  const random = seededRandom(seed);
  const texts: string[] = [];
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const words = i % 2 === 0 ? GOOD : BAD;
    const length = 1 + Math.floor(random() * 40);
    texts.push(Array.from({ length }, () => words[Math.floor(random() * words.length)]).join(' '));
    labels[i] = i % 2;
  }
  texts[count - 2] = '';
  texts[count - 1] = Array.from({ length: 300 }, (_, k) => GOOD[k % GOOD.length]).join(' ');
  return { texts, labels };
}

const LORA: LoraSpec = { rank: 4, alpha: 8, layers: [1], targets: ['query', 'value'] };

function loraSpec(lora: LoraSpec = LORA, overrides: Partial<ModelSpec> = {}): ModelSpec {
  return { inputDim: 512, adapterWidth: 0, head: 'linear', headHidden: 8, labels: ['neg', 'pos'], lora, ...overrides };
}

async function statesOf(use: TrainableUseLite, texts: string[], labels: Int32Array, fromLayer: number): Promise<LabelledEncoderStates> {
  const { states, tokens, width } = await use.states(texts, fromLayer);
  return { encoder: use.weights, fromLayer, states, tokens, width, labels, n: texts.length };
}

function expectFedtlError(fn: () => unknown, code: ErrorCode, message: RegExp): void {
  expect(fn).toThrow(message);
  expect(() => fn()).toThrow(expect.objectContaining({ code }));
}

const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((max, value, k) => Math.max(max, Math.abs(value - b[k])), 0);

describe('LoRA inside use-lite', () => {
  let use: TrainableUseLite;

  beforeAll(async () => {
    configureLogging({ level: 'warn' });
    use = await loadTrainableUseLite();
  }, 120_000);

  afterAll(() => use?.dispose());

  it('knows the projection shapes of the packaged encoder', () => {
    use.weights.layers.forEach((layer, index) => {
      const shapes = USE_LITE_PROJECTION_SHAPES[index];
      expect(layer.query.kernel.shape).toEqual([...shapes.query]);
      expect(layer.key.kernel.shape).toEqual([...shapes.key]);
      expect(layer.value.kernel.shape).toEqual([...shapes.value]);
      expect(layer.output.kernel.shape).toEqual([...shapes.output]);
      expect(layer.ffnInner.kernel.shape).toEqual([...shapes['ffn-inner']]);
      expect(layer.ffnOuter.kernel.shape).toEqual([...shapes['ffn-outer']]);
    });
    expect(USE_LITE_PROJECTION_SHAPES).toHaveLength(use.weights.layers.length);
  });

  it('names A [in, r] and B [r, out] for each chosen projection, before the adapter and head', () => {
    const names = trainableTensorSpecs(loraSpec({ rank: 2, alpha: 4, layers: [0, 1], targets: ['value', 'ffn-outer'] }, { adapterWidth: 8 })).map((t) => `${t.name} [${t.shape}]`);
    expect(names).toEqual([
      'lora/layer_0/value/a [256,2]',
      'lora/layer_0/value/b [2,256]',
      'lora/layer_0/ffn-outer/a [1536,2]',
      'lora/layer_0/ffn-outer/b [2,512]',
      'lora/layer_1/value/a [512,2]',
      'lora/layer_1/value/b [2,512]',
      'lora/layer_1/ffn-outer/a [1536,2]',
      'lora/layer_1/ffn-outer/b [2,512]',
      'adapter/down/kernel [512,8]',
      'adapter/down/bias [8]',
      'adapter/up/kernel [8,512]',
      'adapter/up/bias [512]',
      'head/out/kernel [512,2]',
      'head/out/bias [2]',
    ]);
  });

  it('starts A uniform within ±1/√in and B at zero', () => {
    const weights = initialWeights(loraSpec(), 3);
    const a = weights.find((t) => t.name === 'lora/layer_1/query/a') as NamedTensor;
    const b = weights.find((t) => t.name === 'lora/layer_1/query/b') as NamedTensor;
    const bound = 1 / Math.sqrt(512);
    expect(Math.max(...Array.from(a.data, Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...Array.from(a.data, Math.abs))).toBeGreaterThan(bound / 2);
    expect(Array.from(b.data).every((v) => v === 0)).toBe(true);
  });

  it.each([
    [{ ...LORA, rank: 0 }, /lora\.rank must be an integer ≥ 1, got number 0/],
    [{ ...LORA, alpha: -1 }, /lora\.alpha must be positive and finite as a float32 \(about 1\.2e-38 to 3\.4e38\), got number -1/],
    [{ ...LORA, layers: [2] }, /lora\.layers must be distinct ascending encoder layers in 0…1 \(use-lite has 2\), got \[2\]/],
    [{ ...LORA, layers: [1, 0] }, /lora\.layers must be distinct ascending/],
    [{ ...LORA, rank: 513 }, /lora\.rank must be at most 512 \(the smallest side of the adapted kernels\), got number 513/],
    [{ ...LORA, alpha: 1e39 }, /lora\.alpha must be positive and finite as a float32/],
    [{ ...LORA, targets: ['query', 'query'] }, /lora\.targets must be distinct projections among query, key, value, output, ffn-inner, ffn-outer, got \["query","query"\]/],
  ])('refuses LoRA terms that do not fit use-lite: %j', (lora, message) => {
    expectFedtlError(() => checkLoraSpec(lora as LoraSpec), 'FEDTL_ERR_BAD_CONFIG', message);
    expectFedtlError(() => loraTensorSpecs(lora as LoraSpec), 'FEDTL_ERR_BAD_CONFIG', message);
  });

  it('refuses LoRA with features of another width than use-lite', () => {
    expectFedtlError(() => trainableTensorSpecs(loraSpec(LORA, { inputDim: 16 })), 'FEDTL_ERR_BAD_CONFIG', /inputDim must be 512 \(use-lite's width\) with lora, got number 16/);
  });

  it.each([0, 1])('with fresh pairs (B = 0) from layer %i, reproduces the frozen encoder (max abs diff ≤ 1e-5)', async (fromLayer) => {
    const { texts, labels } = reviews(24, 1);
    const frozen = await use.encode(texts);
    const spec = loraSpec({ ...LORA, layers: fromLayer === 0 ? [0, 1] : [1] });
    const data = await statesOf(use, texts, labels, fromLayer);
    const model = new AdapterHeadModel(spec, initialWeights(spec, 1), use.weights);
    try {
      const before = tf.memory().numTensors;
      const { features } = await featuresOf(model, data);
      expect(maxAbsDiff(features, frozen)).toBeLessThanOrEqual(1e-5);
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      model.dispose();
    }
  });

  it('trains the same from states below the first LoRA layer, recomputing the frozen layers at every step', async () => {
    const { texts, labels } = reviews(12, 6);
    const spec = loraSpec();
    const start = initialWeights(spec, 8);
    const config = { localEpochs: 1, batchSize: 4, learningRate: 0.01, optimizer: 'adam' as const, seed: 3 };
    const cached = await trainLocally(spec, start, await statesOf(use, texts, labels, 1), config);
    const recomputed = await trainLocally(spec, start, await statesOf(use, texts, labels, 0), config);
    expect(Math.max(...cached.delta.map((t, i) => maxAbsDiff(t.data as Float32Array, recomputed.delta[i].data as Float32Array)))).toBeLessThan(1e-4);
  }, 60_000);

  it('cuts a batch into micro-batches within the token budget, in order, each row once', () => {
    const tokens = Int32Array.from([128, 128, 120, 100, 60, 0, 5]);
    expect(microBatches([0, 1, 2, 3, 4, 5, 6], tokens, 256)).toEqual([[0, 1], [2, 3], [4, 5, 6]]);
    expect(microBatches([4, 5], tokens, 10)).toEqual([[4], [5]]);
    expect(microBatches([], tokens, 256)).toEqual([]);
  });

  it('takes one SGD step over a batch larger than the token budget exactly as over the whole batch', async () => {
    const random = seededRandom(9);
    const texts = Array.from({ length: 12 }, (_, i) => Array.from({ length: 150 }, () => (i % 2 === 0 ? GOOD : BAD)[Math.floor(random() * 9)]).join(' '));
    const labels = Int32Array.from(texts, (_, i) => i % 2);
    const spec = loraSpec();
    const data = await statesOf(use, texts, labels, 1);
    expect(data.tokens.reduce((a, b) => a + b, 0)).toBeGreaterThan(MICRO_BATCH_TOKENS);
    const start = initialWeights(spec, 10);
    // B = 0 gives A a zero gradient; a nonzero B makes every LoRA tensor move.
    const weights = start.map((t) => (t.name.endsWith('/b') ? { ...t, data: t.data.map((_, k) => 0.01 * Math.sin(k)) } : t));
    const before = tf.memory().numTensors;
    const stepped = await trainLocally(spec, weights, data, { localEpochs: 1, batchSize: 12, learningRate: 0.1, optimizer: 'sgd', seed: 1 });
    expect(tf.memory().numTensors).toBe(before);
    const model = new AdapterHeadModel(spec, weights, use.weights);
    const batch = statesBatch(data, Array.from({ length: 12 }, (_, i) => i));
    const y = tf.tensor1d(labels, 'int32');
    const whole = model.lossAndGradients(batch, y);
    try {
      for (const [i, tensor] of stepped.delta.entries()) {
        const expected = (await whole.gradients[tensor.name].data()) as Float32Array;
        const diff = maxAbsDiff(tensor.data as Float32Array, expected.map((g) => -0.1 * g));
        expect([tensor.name, diff < 1e-5]).toEqual([weights[i].name, true]);
      }
    } finally {
      tf.dispose([whole.loss, whole.correct, ...Object.values(whole.gradients), batch.states, batch.lengths, y]);
      model.dispose();
    }
  }, 60_000);

  it('pads a batch of states with zeros to its longest text, and groups similar lengths into batches', async () => {
    const { texts, labels } = reviews(10, 2);
    const data = await statesOf(use, texts, labels, 1);
    const batch = statesBatch(data, [0, 9]);
    try {
      expect(batch.states.shape).toEqual([2, Math.max(data.tokens[0], data.tokens[9]), 512]);
      expect(Array.from(await batch.lengths.data())).toEqual([data.tokens[0], data.tokens[9]]);
    } finally {
      tf.dispose([batch.states, batch.lengths]);
    }
    const tokens = Int32Array.from({ length: 100 }, (_, i) => (i * 37) % 128);
    const batches = lengthGroupedBatches(Array.from({ length: 100 }, (_, i) => i), tokens, 4, seededRandom(1));
    expect(batches.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(batches.every((b) => b.length <= 4)).toBe(true);
    // Within each batch the lengths are close: far less spread than in random batches of the same size.
    const spread = batches.reduce((sum, b) => sum + Math.max(...b.map((i) => tokens[i])) - Math.min(...b.map((i) => tokens[i])), 0) / batches.length;
    expect(spread).toBeLessThan(30);
  });

  it('trains the pairs through the encoder: LoRA alone (head frozen) lowers the loss, and nothing leaks', async () => {
    const { texts, labels } = reviews(32, 3);
    const spec = loraSpec();
    const data = await statesOf(use, texts, labels, 1);
    const start = initialWeights(spec, 5);
    const before = tf.memory().numTensors;
    const config = { localEpochs: 3, batchSize: 8, learningRate: 0.01, optimizer: 'adam' as const, seed: 1 };
    const trained = await trainLocally(spec, start, data, config, { trainable: (name) => name.startsWith(LORA_PREFIX) });
    expect(tf.memory().numTensors).toBe(before);
    const after = start.map((t, i) => ({ ...t, data: t.data.map((v, k) => v + trained.delta[i].data[k]) }));
    for (const [i, tensor] of trained.delta.entries()) {
      const changed = tensor.data.some((v) => v !== 0);
      expect([tensor.name, changed]).toEqual([tensor.name, start[i].name.startsWith(LORA_PREFIX)]);
    }
    const lossBefore = (await evaluate(spec, start, data)).metrics.loss;
    const lossAfter = (await evaluate(spec, after, data)).metrics.loss;
    expect(lossAfter).toBeLessThan(lossBefore * 0.9);
    expect(tf.memory().numTensors).toBe(before);
  }, 120_000);

  it('trains only the head without running the encoder per step, leaving the pairs unchanged', async () => {
    const { texts, labels } = reviews(16, 4);
    const spec = loraSpec();
    const data = await statesOf(use, texts, labels, 1);
    const start = initialWeights(spec, 6);
    const before = tf.memory().numTensors;
    const trained = await trainLocally(spec, start, data, { localEpochs: 2, batchSize: 4, learningRate: 0.01, optimizer: 'sgd', seed: 2 }, { trainable: (name) => name.startsWith('head/') });
    expect(tf.memory().numTensors).toBe(before);
    expect(trained.delta.filter((t) => t.name.startsWith(LORA_PREFIX)).every((t) => t.data.every((v) => v === 0))).toBe(true);
    expect(trained.delta.find((t) => t.name === 'head/out/kernel')?.data.some((v) => v !== 0)).toBe(true);
  }, 60_000);

  it('refuses features for a model with LoRA and states for one without', async () => {
    const { texts, labels } = reviews(4, 5);
    const data = await statesOf(use, texts, labels, 1);
    const frozenSpec: ModelSpec = { ...loraSpec(), lora: undefined };
    const features = { features: new Float32Array(4 * 512), labels, n: 4 };
    await expect(evaluate(loraSpec(), initialWeights(loraSpec(), 1), features)).rejects.toThrow(/expected the encoder states a model with LoRA trains on, got backbone features/);
    await expect(evaluate(frozenSpec, initialWeights(frozenSpec, 1), data)).rejects.toThrow(/expected backbone features for a model without LoRA, got encoder states/);
    const fromLayer0 = loraSpec({ ...LORA, layers: [0, 1] });
    await expect(evaluate(fromLayer0, initialWeights(fromLayer0, 1), data)).rejects.toThrow(/expected encoder states entering layer 0 or below \(the first with LoRA\), got states entering layer 1/);
  });
});
