// USE lite re-implemented in TF.js ops (use-lite-encoder.ts) over the packaged weights (use-lite-weights.ts),
// with the packaged backbone's text handling: the same tokenizer, the same per-text token cap, the same unk token
// for a text without tokens, length buckets, and fedtl's L2 normalisation of each row (use-lite.ts). Its features
// match `loadUseLite().embed` within 1e-4 (use-lite-encoder.spec.ts); unlike the graph model, its weights are an
// object of tensors that a caller can differentiate through or replace (LoRA).
import * as tf from '@tensorflow/tfjs-core';
import { createLogger } from '@fedtl/util';
import { selectBackend, type BackendName } from '../backend';
import { l2NormalizeRows, validateBatchSize } from './backbone';
import { lengthBuckets } from './length-buckets';
import type { SentencePieceTokenizer } from './sentencepiece';
import { USE_LITE_BATCH_SIZE, USE_LITE_DIM, USE_LITE_ID, loadUseLiteTokenizer, useLiteModelDir, useLiteTokenIds } from './use-lite';
import { encodeUseLite, encodeUseLiteStates, toUseLiteBatch } from './use-lite-encoder';
import { disposeUseLiteWeights, loadUseLiteWeights, type UseLiteWeights } from './use-lite-weights';

const log = createLogger('backbone');

export interface TrainableUseLiteOptions {
  /** Backend to insist on; default: whatever `selectBackend` chooses. */
  backend?: BackendName;
  /** Texts per forward pass (texts of similar token counts batch together); default USE_LITE_BATCH_SIZE. */
  batchSize?: number;
  /** Directory holding model.json, its shards and vocab.json; default: the installed package's `dist`. */
  modelDir?: string;
}

/** USE lite as TF.js ops over an explicit weights object. */
export interface TrainableUseLite {
  readonly id: string;
  /** Width of each feature vector (512). */
  readonly dim: number;
  /** Tokens per text the encoder reads (the graph's bound, 128); later ones are dropped. */
  readonly maxTokens: number;
  /** The packaged weights by name; owned by this object (freed by `dispose`), never to be disposed by callers. */
  readonly weights: UseLiteWeights;
  /** The ids `embed` feeds for each text (the packaged backbone's: capped, unk for an empty text). */
  tokenIds(texts: readonly string[]): number[][];
  /**
   * The encoder's outputs as the graph model returns them (its own final normalisation, ε 1e-12), row-major
   * [texts.length · dim], in input order, computed in length buckets. `weights` defaults to the packaged ones.
   */
  encode(texts: readonly string[], weights?: UseLiteWeights): Promise<Float32Array>;
  /** `encode`, then each row scaled to unit L2 norm as every fedtl backbone does (`l2NormalizeRows`). */
  embed(texts: readonly string[], weights?: UseLiteWeights): Promise<Float32Array>;
  /**
   * Each text's hidden states after the packaged encoder's first `layers` layers (0: the embeddings with the
   * timing signal), computed in length buckets: text i's states are row-major [tokens[i], width]. What a model
   * with LoRA from layer `layers` on trains from (LabelledEncoderStates).
   * @throws FedtlError FEDTL_ERR_BAD_CONFIG when `layers` is not in 0 … the encoder's layer count.
   */
  states(texts: readonly string[], layers: number): Promise<{ states: Float32Array[]; tokens: Int32Array; width: number }>;
  /** Frees the weights; the object is unusable afterwards. */
  dispose(): void;
}

/**
 * Loads the packaged USE lite weights and vocabulary (no graph model) and returns the re-implemented encoder.
 * @throws RangeError when `batchSize` is not an integer >= 1; FedtlError as `loadUseLiteWeights` and
 *   `selectBackend` do.
 */
export async function loadTrainableUseLite(options: TrainableUseLiteOptions = {}): Promise<TrainableUseLite> {
  const batchSize = validateBatchSize(options.batchSize ?? USE_LITE_BATCH_SIZE);
  const modelDir = options.modelDir ?? useLiteModelDir();
  const started = Date.now();
  const backend = await selectBackend(options.backend);
  const tokenizer = await loadUseLiteTokenizer(modelDir);
  const weights = await loadUseLiteWeights(modelDir);
  log.info('trainable backbone loaded', { backbone: USE_LITE_ID, backend, dim: USE_LITE_DIM, ms: Date.now() - started });
  return new TrainableUseLiteEncoder(weights, tokenizer, batchSize);
}

class TrainableUseLiteEncoder implements TrainableUseLite {
  readonly id = USE_LITE_ID;
  readonly dim: number;
  readonly maxTokens: number;

  constructor(
    readonly weights: UseLiteWeights,
    private readonly tokenizer: SentencePieceTokenizer,
    private readonly batchSize: number,
  ) {
    this.dim = weights.pooler.kernel.shape[1];
    this.maxTokens = weights.maxTokens;
  }

  tokenIds(texts: readonly string[]): number[][] {
    return texts.map((text) => useLiteTokenIds(this.tokenizer, text, this.maxTokens));
  }

  async encode(texts: readonly string[], weights: UseLiteWeights = this.weights): Promise<Float32Array> {
    const features = new Float32Array(texts.length * this.dim);
    const encoded = this.tokenIds(texts);
    for (const batchIndices of lengthBuckets(encoded.map((ids) => ids.length), this.batchSize)) {
      const batch = toUseLiteBatch(batchIndices.map((index) => encoded[index]));
      let output: tf.Tensor2D | undefined;
      try {
        output = encodeUseLite(weights, batch);
        const vectors = (await output.data()) as Float32Array;
        batchIndices.forEach((index, row) => features.set(vectors.subarray(row * this.dim, (row + 1) * this.dim), index * this.dim));
      } finally {
        tf.dispose([batch.ids, batch.lengths, ...(output === undefined ? [] : [output])]);
      }
    }
    return features;
  }

  async states(texts: readonly string[], layers: number): Promise<{ states: Float32Array[]; tokens: Int32Array; width: number }> {
    const encoded = this.tokenIds(texts);
    const tokens = Int32Array.from(encoded, (ids) => ids.length);
    const width = layers === 0 ? this.weights.embeddings.shape[1] : this.weights.layers[Math.min(layers, this.weights.layers.length) - 1].ffnOuter.kernel.shape[1];
    const states: Float32Array[] = new Array(texts.length);
    for (const batchIndices of lengthBuckets(encoded.map((ids) => ids.length), this.batchSize)) {
      const batch = toUseLiteBatch(batchIndices.map((index) => encoded[index]));
      let output: tf.Tensor3D | undefined;
      try {
        output = encodeUseLiteStates(this.weights, batch, layers);
        const values = (await output.data()) as Float32Array;
        const stride = output.shape[1] * width;
        // slice, not subarray: each text keeps only its own states, not the whole batch's buffer.
        batchIndices.forEach((index, row) => (states[index] = values.slice(row * stride, row * stride + tokens[index] * width)));
      } finally {
        tf.dispose([batch.ids, batch.lengths, ...(output === undefined ? [] : [output])]);
      }
    }
    return { states, tokens, width };
  }

  async embed(texts: readonly string[], weights?: UseLiteWeights): Promise<Float32Array> {
    return l2NormalizeRows(await this.encode(texts, weights), this.dim);
  }

  dispose(): void {
    disposeUseLiteWeights(this.weights);
  }
}
