import * as tf from '@tensorflow/tfjs-core';
import { configureLogging } from '@fedtl/util';
import { USE_LITE_DIM, loadUseLite, loadUseLiteTokenizer, useLiteFingerprint, type UseLiteBackbone } from './use-lite';

const row = (features: Float32Array, i: number, dim = USE_LITE_DIM) => features.subarray(i * dim, (i + 1) * dim);
const dot = (a: Float32Array, b: Float32Array) => a.reduce((sum, value, k) => sum + value * b[k], 0);
const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((max, value, k) => Math.max(max, Math.abs(value - b[k])), 0);

describe('USE lite backbone (the packaged model)', () => {
  let backbone: UseLiteBackbone;

  beforeAll(async () => {
    configureLogging({ level: 'warn' });
    backbone = await loadUseLite();
  });
  afterAll(() => backbone?.dispose());

  it('embeds each text as a 512-d unit vector, deterministically', async () => {
    const texts = ['Hello world.', 'Federated learning keeps data where it is.', 'ok'];
    const first = await backbone.embed(texts);
    expect(first).toHaveLength(texts.length * USE_LITE_DIM);
    for (let i = 0; i < texts.length; i++) expect(Math.sqrt(dot(row(first, i), row(first, i)))).toBeCloseTo(1, 4);
    expect(await backbone.embed(texts)).toEqual(first);
  });

  it('places paraphrases closer than unrelated sentences', async () => {
    const features = await backbone.embed(['The cat sits on the mat.', 'A kitten is sitting on a rug.', 'Quarterly earnings rose by 5 percent.']);
    const paraphrase = dot(row(features, 0), row(features, 1));
    const unrelated = dot(row(features, 0), row(features, 2));
    expect(paraphrase).toBeGreaterThan(unrelated + 0.2);
  });

  it('gives the same vector whatever the batch a text is in', async () => {
    const texts = Array.from({ length: 40 }, (_, i) => `sentence number ${i} about ${i % 2 ? 'cats' : 'markets'}`);
    const batched = await backbone.embed(texts);
    const alone = await backbone.embed([texts[37]]);
    expect(maxAbsDiff(row(batched, 37), alone)).toBeLessThan(1e-5);
  });

  it('embeds empty, whitespace-only and very long texts without failing', async () => {
    const long = 'All work and no play makes Jack a dull boy. '.repeat(2000);
    const features = await backbone.embed(['', '   \n\t', 'word', long, '']);
    expect(features).toHaveLength(5 * USE_LITE_DIM);
    expect(features.every(Number.isFinite)).toBe(true);
    for (let i = 0; i < 5; i++) expect(Math.sqrt(dot(row(features, i), row(features, i)))).toBeCloseTo(1, 4);
    expect(row(features, 0)).toEqual(row(features, 1));
    expect(await backbone.embed([])).toHaveLength(0);
  });

  it('embeds length buckets and input-order batches as it embeds one text at a time (max abs diff <= 1e-5)', async () => {
    // Varied lengths, shuffled: empty, a word, sentences, and texts past the graph's 128 positions and at the
    // tokenizer's 256-token cap, so that without buckets a batch would pad short texts to the longest.
    const long = (n: number) => Array.from({ length: n }, (_, i) => `word${i % 50}`).join(' ');
    const texts = ['Short.', long(300), '', 'A review of moderate length, saying the book was fine but slow.', long(30), 'ok', '  ', long(8)];
    expect((await loadUseLiteTokenizer()).encode(long(300)).length).toBe(256);
    const before = tf.memory().numTensors;
    const bucketed = await backbone.embed(texts);
    const inputOrder = await backbone.embedWith(texts, { batchSize: 4, bucketByLength: false });
    const reference = new Float32Array(bucketed.length);
    for (const [i, text] of texts.entries()) reference.set(await backbone.embed([text]), i * USE_LITE_DIM);
    expect(tf.memory().numTensors).toBe(before);
    expect(maxAbsDiff(bucketed, reference)).toBeLessThanOrEqual(1e-5);
    expect(maxAbsDiff(inputOrder, reference)).toBeLessThanOrEqual(1e-5);
    await expect(backbone.embedWith(texts, { batchSize: 0, bucketByLength: true })).rejects.toThrow(RangeError);
  });

  it('leaks no tensors', async () => {
    const before = tf.memory().numTensors;
    await backbone.embed(Array.from({ length: 70 }, (_, i) => `text ${i}`));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('pins the files with a content hash that the fingerprint reproduces without loading the model', async () => {
    const fingerprint = await useLiteFingerprint();
    expect(fingerprint).toEqual({ id: 'use-lite', contentHash: backbone.contentHash, dim: 512 });
    expect(backbone.ref()).toEqual(fingerprint);
    expect(backbone.contentHash).toMatch(/^[0-9a-f]{64}$/);
    expect((await useLiteFingerprint()).contentHash).toBe(fingerprint.contentHash);
  });
});
