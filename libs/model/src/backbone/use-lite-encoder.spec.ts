import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import { configureLogging, seededRandom } from '@fedtl/util';
import { WORKSPACE_ROOT } from '@fedtl/util/testing';
import { selectBackend } from '../backend';
import { l2NormalizeRows } from './backbone';
import { lengthBuckets } from './length-buckets';
import { readModelFiles, toModelArtifacts } from './model-files';
import type { SentencePieceTokenizer } from './sentencepiece';
import { USE_LITE_DIM, loadUseLiteTokenizer, useLiteModelDir } from './use-lite';
import { encodeUseLite, toUseLiteBatch } from './use-lite-encoder';
import { loadTrainableUseLite, type TrainableUseLite } from './use-lite-trainable';
import type { UseLiteWeights } from './use-lite-weights';

const REVIEWS_DIR = path.join(WORKSPACE_ROOT, '..', 'shared', 'data', 'amazon-reviews');
const DOMAINS = ['books', 'dvd', 'electronics', 'kitchen'];
/** Word counts the review texts are cut to, cycled: one word to past the 128-token bound. */
const WORD_COUNTS = [1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 140, 300];
const GENERATED_WORDS = 'the a of book film kettle battery great awful not really works broke again reading plot sound price cheap return gift would recommend'.split(' ');

const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((max, value, k) => Math.max(max, Math.abs(value - b[k])), 0);

/** The packaged graph's raw outputs, fed as use-lite.ts feeds it (sparse ids), in the same length buckets. */
async function graphEncode(model: GraphModel, tokenIds: number[][]): Promise<Float32Array> {
  const features = new Float32Array(tokenIds.length * USE_LITE_DIM);
  for (const batch of lengthBuckets(tokenIds.map((ids) => ids.length), 8)) {
    const rows = batch.map((index) => tokenIds[index]);
    const indices = rows.flatMap((ids, row) => ids.flatMap((_, position) => [row, position]));
    const inputs = { indices: tf.tensor2d(indices, [indices.length / 2, 2], 'int32'), values: tf.tensor1d(rows.flat(), 'int32') };
    const output = (await model.executeAsync(inputs)) as tf.Tensor;
    const vectors = (await output.data()) as Float32Array;
    batch.forEach((index, row) => features.set(vectors.subarray(row * USE_LITE_DIM, (row + 1) * USE_LITE_DIM), index * USE_LITE_DIM));
    tf.dispose([inputs.indices, inputs.values, output]);
  }
  return features;
}

/** Review texts (or generated ones where the shared data is absent) cut to varied lengths, deterministically. */
function corpusTexts(count: number): string[] {
  const texts: string[] = [];
  if (existsSync(REVIEWS_DIR)) {
    const reviews = DOMAINS.flatMap((domain) =>
      readFileSync(path.join(REVIEWS_DIR, `${domain}.test.jsonl`), 'utf8')
        .split('\n')
        .filter((line) => line.trim() !== '')
        .slice(0, Math.ceil(count / DOMAINS.length))
        .map((line) => (JSON.parse(line) as { text: string }).text),
    );
    reviews.forEach((text, i) => texts.push(text.split(/\s+/).slice(0, WORD_COUNTS[i % WORD_COUNTS.length]).join(' ')));
  } else {
    const random = seededRandom(15);
    for (let i = 0; i < count; i++) {
      const words = Array.from({ length: WORD_COUNTS[i % WORD_COUNTS.length] }, () => GENERATED_WORDS[Math.floor(random() * GENERATED_WORDS.length)]);
      texts.push(words.join(' ') + '.');
    }
  }
  return texts.slice(0, count);
}

/** A text of exactly `tokens` tokens (before any cap): a repeated common word. */
function textOfTokens(tokenizer: SentencePieceTokenizer, tokens: number): string {
  const text = Array.from({ length: tokens }, () => 'the').join(' ');
  expect(tokenizer.encode(text)).toHaveLength(tokens);
  return text;
}

describe('USE lite as TF.js ops (use-lite-encoder) against the packaged graph model', () => {
  let trainable: TrainableUseLite;
  let graph: GraphModel;
  let tokenizer: SentencePieceTokenizer;

  beforeAll(async () => {
    configureLogging({ level: 'warn' });
    await selectBackend('wasm');
    trainable = await loadTrainableUseLite({ backend: 'wasm' });
    tokenizer = await loadUseLiteTokenizer();
    graph = await loadGraphModel(tf.io.fromMemory(toModelArtifacts(await readModelFiles(useLiteModelDir()))));
  });
  afterAll(() => {
    trainable?.dispose();
    graph?.dispose();
  });

  // Measured (wasm, these 512 texts, 20 149 tokens, batches of 8 by length): max abs diff 0 before and after
  // normalisation — bit-identical, the same kernels in the same order; 1e-4 leaves room for other backends.
  // A 0.1 % change of one query kernel moves the outputs by 1.4e-4, so the bound does see a wrong weight.
  it('gives the graph model\'s embeddings on 512 texts of varied length, max abs diff <= 1e-4 before and after L2 normalisation', async () => {
    const edgeCases = [
      '',
      '   \n\t ',
      textOfTokens(tokenizer, 1),
      'hello',
      '.',
      textOfTokens(tokenizer, 128),
      textOfTokens(tokenizer, 129),
      Array.from({ length: 300 }, (_, i) => `word${i % 37}`).join(' '),
      '¡Olé! Naïve café — “quoted” … 東京 🚀😀 ©®™ ½ ß',
      '!!! ??? ... ;;; :-) (^_^) [x] {y} <z> #hash @at $5.99 100% a&b',
      '😀😀😀 🚀',
      'ok\u00a0then\u200bzero width',
    ];
    const texts = [...edgeCases, ...corpusTexts(512 - edgeCases.length)];
    const tokenIds = trainable.tokenIds(texts);
    const uncapped = texts.map((text) => tokenizer.encode(text).length);
    expect(texts).toHaveLength(512);
    expect(uncapped).toEqual(expect.arrayContaining([0, 1, 128, 129]));
    expect(Math.max(...uncapped)).toBeGreaterThan(200);
    expect(tokenIds.every((ids) => ids.length >= 1 && ids.length <= 128)).toBe(true);
    expect(tokenIds.some((ids) => ids.includes(0) && ids.length > 1)).toBe(true); // an unk inside a text

    const reference = await graphEncode(graph, tokenIds);
    const ours = await trainable.encode(texts);
    expect(ours.every(Number.isFinite)).toBe(true);
    const rawDiff = maxAbsDiff(ours, reference);
    const normalisedDiff = maxAbsDiff(l2NormalizeRows(ours.slice(), USE_LITE_DIM), l2NormalizeRows(reference.slice(), USE_LITE_DIM));
    expect(rawDiff).toBeLessThanOrEqual(1e-4);
    expect(normalisedDiff).toBeLessThanOrEqual(1e-4);
    expect(maxAbsDiff(await trainable.embed(texts.slice(0, 16)), l2NormalizeRows(reference.slice(0, 16 * USE_LITE_DIM), USE_LITE_DIM))).toBeLessThanOrEqual(1e-4);
  }, 120_000);

  it('gives a text the same vector alone as in a padded batch (padding is masked)', async () => {
    const short = 'A short one.';
    const long = 'A much longer review that goes on about the plot, the characters and the ending, which disappointed.';
    const batched = await trainable.encode([short, long]);
    const alone = await trainable.encode([short]);
    expect(maxAbsDiff(batched.subarray(0, USE_LITE_DIM), alone)).toBeLessThanOrEqual(1e-5);
  });

  it('is differentiable: gradients reach every attention projection, finite and non-zero', () => {
    const weights = trainable.weights;
    const variables: tf.Variable[] = [];
    const adapted: UseLiteWeights = {
      ...weights,
      layers: weights.layers.map((layer) => {
        const asVariable = (kernel: tf.Tensor2D) => {
          const variable = tf.variable(kernel, true);
          variables.push(variable);
          return variable as tf.Tensor as tf.Tensor2D;
        };
        return {
          ...layer,
          query: { ...layer.query, kernel: asVariable(layer.query.kernel) },
          key: { ...layer.key, kernel: asVariable(layer.key.kernel) },
          value: { ...layer.value, kernel: asVariable(layer.value.kernel) },
          output: { ...layer.output, kernel: asVariable(layer.output.kernel) },
        };
      }),
    };
    const batch = toUseLiteBatch(trainable.tokenIds(['Gradients should reach the attention.', 'ok', '']));
    const direction = tf.randomNormal([3, USE_LITE_DIM], 0, 1, 'float32', 7);
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(encodeUseLite(adapted, batch), direction)) as tf.Scalar, variables);
    try {
      expect(Number.isFinite(value.dataSync()[0])).toBe(true);
      expect(Object.keys(grads)).toHaveLength(variables.length);
      for (const variable of variables) {
        const grad = grads[variable.name].dataSync();
        expect(grad.every(Number.isFinite)).toBe(true);
        expect(grad.some((g) => g !== 0)).toBe(true);
      }
    } finally {
      tf.dispose([value, ...Object.values(grads)]);
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([batch.ids, batch.lengths, direction, ...variables]);
  });

  it('leaks no tensors across calls', async () => {
    const texts = corpusTexts(20);
    await trainable.encode(texts);
    const before = tf.memory().numTensors;
    await trainable.encode(texts);
    await trainable.embed(texts);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses ids or lengths of the wrong dtype or shape', () => {
    const ids = tf.zeros([2, 3], 'float32') as tf.Tensor2D;
    const lengths = tf.tensor1d([3, 3], 'int32');
    const shortLengths = tf.tensor1d([3], 'int32');
    const intIds = tf.zeros([2, 3], 'int32') as tf.Tensor2D;
    expect(() => encodeUseLite(trainable.weights, { ids, lengths })).toThrow(expect.objectContaining({ code: 'FEDTL_ERR_BAD_TENSOR_DTYPE' }));
    expect(() => encodeUseLite(trainable.weights, { ids: intIds, lengths: shortLengths })).toThrow(expect.objectContaining({ code: 'FEDTL_ERR_BAD_TENSOR_SHAPE' }));
    tf.dispose([ids, lengths, shortLengths, intIds]);
  });
});
