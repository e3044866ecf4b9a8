import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { configureLogging, seededRandom } from '@fedtl/util';
import { useTestSandbox } from '@fedtl/util/testing';
import { fingerprintBackbone, loadBackbone, parseBackboneSpec } from './load-backbone';
import { SentencePieceTokenizer } from './sentencepiece';

// A tiny frozen "encoder": token ids -> rows of an embedding table (GatherV2), optionally averaged over the
// sequence by the graph itself (Mean). Written as a TF.js graph model by hand, the way the converter writes one.
const VOCAB: Array<[string, number]> = [
  ['<unk>', 0], ['▁', -4], ['▁the', -1], ['▁cat', -2], ['▁dog', -2], ['s', -2.5], ['▁sat', -2.5],
  ['a', -3], ['c', -3], ['d', -3], ['e', -3], ['g', -3], ['h', -3], ['o', -3], ['t', -3],
];
const DIM = 8;
const TABLE = (() => {
  const random = seededRandom(7);
  return Float32Array.from({ length: VOCAB.length * DIM }, () => random() * 2 - 1);
})();

const dim = (size: number) => ({ size: String(size) });
const int32Attr = { type: 'DT_INT32' };
const floatAttr = { type: 'DT_FLOAT' };

function writeGraphModel(dir: string, options: { poolInGraph: boolean; sequenceLength?: number }): void {
  const nodes: object[] = [
    { name: 'ids', op: 'Placeholder', attr: { dtype: int32Attr, shape: { shape: { dim: [dim(-1), dim(options.sequenceLength ?? -1)] } } } },
    { name: 'table', op: 'Const', attr: { dtype: floatAttr, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: { dim: [dim(VOCAB.length), dim(DIM)] } } } } },
    { name: 'gather_axis', op: 'Const', attr: { dtype: int32Attr, value: { tensor: { dtype: 'DT_INT32', tensorShape: {} } } } },
    { name: 'tokens', op: 'GatherV2', input: ['table', 'ids', 'gather_axis'], attr: { Tparams: floatAttr, Tindices: int32Attr, Taxis: int32Attr, batch_dims: { i: '0' } } },
  ];
  const weights = [
    { name: 'table', shape: [VOCAB.length, DIM], dtype: 'float32' },
    { name: 'gather_axis', shape: [], dtype: 'int32' },
  ];
  const data = [Buffer.from(TABLE.buffer), Buffer.from(Int32Array.of(0).buffer)];
  if (options.poolInGraph) {
    nodes.push(
      { name: 'mean_axis', op: 'Const', attr: { dtype: int32Attr, value: { tensor: { dtype: 'DT_INT32', tensorShape: { dim: [dim(1)] } } } } },
      { name: 'sentence', op: 'Mean', input: ['tokens', 'mean_axis'], attr: { T: floatAttr, Tidx: int32Attr, keep_dims: { b: false } } },
    );
    weights.push({ name: 'mean_axis', shape: [1], dtype: 'int32' });
    data.push(Buffer.from(Int32Array.of(1).buffer));
  }
  const modelJson = {
    format: 'graph-model',
    generatedBy: 'fedtl test',
    convertedBy: null,
    modelTopology: { node: nodes, library: {}, versions: { producer: 1 } },
    weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights }],
  };
  writeFileSync(path.join(dir, 'model.json'), JSON.stringify(modelJson));
  writeFileSync(path.join(dir, 'group1-shard1of1.bin'), Buffer.concat(data));
  writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify({ type: 'sentencepiece-unigram', vocab: VOCAB, dim: DIM, maxTokens: 16 }));
}

/** What the backbone should give: the mean of the text's token rows, L2-normalised. */
function expectedFeatures(text: string, maxTokens: number): Float32Array {
  const ids = new SentencePieceTokenizer(VOCAB, { maxTokens }).encode(text);
  const used = ids.length > 0 ? ids : [0];
  const mean = new Float32Array(DIM);
  for (const id of used) for (let k = 0; k < DIM; k++) mean[k] += TABLE[id * DIM + k] / used.length;
  const norm = Math.hypot(...mean);
  return mean.map((value) => value / norm);
}

describe('tfjs-model backbone', () => {
  const sandbox = useTestSandbox();
  const modelDir = (options: { poolInGraph: boolean; sequenceLength?: number }) => {
    const dir = mkdtempSync(path.join(sandbox.dir, 'graph-model-'));
    writeGraphModel(dir, options);
    return dir;
  };

  beforeAll(() => configureLogging({ level: 'warn' }));

  const texts = ['the cat sat', 'the dogs', '', 'cats and dogs sat on the mat'];

  it.each<[string, { poolInGraph: boolean; sequenceLength?: number }]>([
    ['[batch, length, dim], pooled by the backbone over each text\'s own tokens', { poolInGraph: false }],
    ['[batch, length, dim] with a fixed input width', { poolInGraph: false, sequenceLength: 12 }],
    ['[batch, dim], pooled by the graph over every position: batches never mix token counts', { poolInGraph: true }],
  ])('embeds from a model that outputs %s', async (_name, options) => {
    const dir = modelDir(options);
    const backbone = await loadBackbone(`tfjs-model:${dir}`, { batchSize: 32 });
    try {
      const before = tf.memory().numTensors;
      const features = await backbone.embed(texts);
      expect(tf.memory().numTensors).toBe(before);
      expect(features).toHaveLength(texts.length * DIM);
      texts.forEach((text, i) => {
        const expected = expectedFeatures(text, Math.min(16, options.sequenceLength ?? 16));
        const got = features.subarray(i * DIM, (i + 1) * DIM);
        expected.forEach((value, k) => expect(got[k]).toBeCloseTo(value, 5));
      });
      expect(backbone.ref()).toEqual(await fingerprintBackbone(`tfjs-model:${dir}`));
    } finally {
      backbone.dispose();
    }
  });

  it('fingerprints from the files: the same files hash the same anywhere, a changed vocabulary does not', async () => {
    const a = await fingerprintBackbone(`tfjs-model:${modelDir({ poolInGraph: false })}`);
    const bDir = modelDir({ poolInGraph: false });
    const b = await fingerprintBackbone(`tfjs-model:${bDir}`);
    expect(a.contentHash).toBe(b.contentHash);
    expect(a.dim).toBe(DIM);
    writeFileSync(path.join(bDir, 'tokenizer.json'), JSON.stringify({ type: 'sentencepiece-unigram', vocab: VOCAB.slice(0, -1), dim: DIM }));
    expect((await fingerprintBackbone(`tfjs-model:${bDir}`)).contentHash).not.toBe(a.contentHash);
  });

  it('refuses a declared width the model does not produce, and a bad tokenizer.json, with clear errors', async () => {
    const dir = modelDir({ poolInGraph: false });
    writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify({ type: 'sentencepiece-unigram', vocab: VOCAB, dim: DIM + 1 }));
    await expect(loadBackbone(`tfjs-model:${dir}`)).rejects.toMatchObject({
      code: 'FEDTL_ERR_BAD_TENSOR_SHAPE',
      message: expect.stringMatching(/should output \[1, 9\] or \[1, (\d+), 9\]; got \[1, \1, 8\]$/),
    });
    writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify({ type: 'wordpiece', vocab: VOCAB, dim: DIM }));
    await expect(loadBackbone(`tfjs-model:${dir}`)).rejects.toThrow('"type" must be "sentencepiece-unigram"; got "wordpiece"');
    rmSync(path.join(dir, 'tokenizer.json'));
    await expect(fingerprintBackbone(`tfjs-model:${dir}`)).rejects.toThrow('a tfjs-model backbone needs');
  });

  it('embeds from a TF.js layers model saved by model.save (an Embedding layer over the same table)', async () => {
    const dir = sandbox.dir;
    const model = tfl.sequential({ layers: [tfl.layers.embedding({ inputDim: VOCAB.length, outputDim: DIM, inputShape: [null] as never })] });
    model.layers[0].setWeights([tf.tensor2d(TABLE, [VOCAB.length, DIM])]);
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        writeFileSync(path.join(dir, 'weights.bin'), Buffer.from(artifacts.weightData as ArrayBuffer));
        writeFileSync(
          path.join(dir, 'model.json'),
          JSON.stringify({ format: 'layers-model', modelTopology: artifacts.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }] }),
        );
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    model.dispose();
    writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify({ type: 'sentencepiece-unigram', vocab: VOCAB, dim: DIM, maxTokens: 16 }));

    const backbone = await loadBackbone(`tfjs-model:${dir}`);
    try {
      const before = tf.memory().numTensors;
      const features = await backbone.embed(texts);
      expect(tf.memory().numTensors).toBe(before);
      texts.forEach((text, i) => {
        const expected = expectedFeatures(text, 16);
        expected.forEach((value, k) => expect(features[i * DIM + k]).toBeCloseTo(value, 5));
      });
    } finally {
      backbone.dispose();
    }
  });

  it('parses backbone specs and rejects unknown ones', () => {
    expect(parseBackboneSpec('use-lite')).toEqual({ kind: 'use-lite' });
    expect(parseBackboneSpec('tfjs-model:/models/mini')).toEqual({ kind: 'tfjs-model', dir: '/models/mini' });
    expect(() => parseBackboneSpec('bert')).toThrow('backbone must be "use-lite" or "tfjs-model:<directory>"; got "bert"');
    expect(() => parseBackboneSpec('tfjs-model:')).toThrow('got "tfjs-model:"');
  });
});
