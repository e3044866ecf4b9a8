// Training data for a model with LoRA inside the use-lite encoder. Everything below the first adapted layer is
// frozen, so each text's hidden states there are computed once (TrainableUseLite.states) and kept; every
// training step runs only the adapted layers and above, on batches of texts of similar length so that little of
// the arithmetic goes to padding.
import * as tf from '@tensorflow/tfjs-core';
import { shuffled } from '@fedtl/util';
import type { UseLiteStatesBatch } from '../backbone/use-lite-encoder';
import type { UseLiteWeights } from '../backbone/use-lite-weights';

/** n examples as the frozen encoder's states entering layer `fromLayer`, with labels as indices into `spec.labels`. */
export interface LabelledEncoderStates {
  /** The frozen packaged encoder the states came from and the adapted layers run on; not owned. */
  encoder: UseLiteWeights;
  /**
   * The layer the states enter: the spec's first LoRA layer (everything frozen computed once), or a lower one to
   * hold less (0: the 256-wide embeddings with the timing signal) at the cost of recomputing the frozen layers
   * between it and the first LoRA layer at every step.
   */
  fromLayer: number;
  /** Example i's states, row-major [tokens[i], width]. */
  states: Float32Array[];
  /** Tokens per example (after the encoder's cap). */
  tokens: Int32Array;
  /** Width of each token's state (256 entering Layer_0, 512 entering Layer_1). */
  width: number;
  labels: Int32Array;
  n: number;
}

/** A batch of states with the layer they enter (what AdapterHeadModel reads for a spec with LoRA). */
export interface EncoderStatesBatch extends UseLiteStatesBatch {
  fromLayer: number;
}

/** Rows `rows` of `data` padded with zeros to the longest into one batch; the caller disposes both tensors. */
export function statesBatch(data: LabelledEncoderStates, rows: readonly number[]): EncoderStatesBatch {
  const longest = rows.reduce((max, row) => Math.max(max, data.tokens[row]), 0);
  const values = new Float32Array(rows.length * longest * data.width);
  rows.forEach((row, b) => values.set(data.states[row], b * longest * data.width));
  return {
    states: tf.tensor3d(values, [rows.length, longest, data.width]),
    lengths: tf.tensor1d(rows.map((row) => data.tokens[row]), 'int32'),
    fromLayer: data.fromLayer,
  };
}

/** How many batches of a shuffled epoch are sorted by length together: enough to pad little, few enough to mix. */
const BATCHES_PER_POOL = 8;

/**
 * An epoch's minibatches for `order` (the epoch's shuffled indices): each pool of BATCHES_PER_POOL·batchSize
 * consecutive indices is sorted by token count and cut into batches, and the batches are shuffled with `random`.
 * Every index appears once; batches hold at most `batchSize` (the last of each pool may hold fewer). A "sortish"
 * sampler, as in fairseq's and Hugging Face's length-grouped samplers.
 */
export function lengthGroupedBatches(order: readonly number[], tokens: Int32Array, batchSize: number, random: () => number): number[][] {
  const batches: number[][] = [];
  const pool = batchSize * BATCHES_PER_POOL;
  for (let start = 0; start < order.length; start += pool) {
    const sorted = order.slice(start, start + pool).sort((a, b) => tokens[b] - tokens[a]);
    for (let k = 0; k < sorted.length; k += batchSize) batches.push(sorted.slice(k, k + batchSize));
  }
  return shuffled(batches, random);
}
