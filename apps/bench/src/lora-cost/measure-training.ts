// One configuration's costs on a client: the cached part prepared once (timed, its size counted), one timed local
// training with per-epoch times, process RSS and tf.memory() read around it, and the tensor bytes of one step on
// the longest texts under tf.profile (the activations a step holds for its gradients).
import * as tf from '@tensorflow/tfjs-core';
import { isEncoderStates, trainLocally, type LabelledExamples, type TrainableUseLite } from '@fedtl/model';
import type { ModelSpec, NamedTensor, TrainingConfig } from '@fedtl/protocol';
import { collectGarbage } from '../collect-garbage';
import type { ConfigurationPlan } from './configurations';

/** A configuration's training data, computed once before any timing. */
export interface PreparedExamples {
  examples: LabelledExamples;
  /** Wall seconds to compute it from the texts (tokenizer and frozen encoder layers). */
  seconds: number;
  /** Bytes of its Float32Arrays (features, or every text's states). */
  bytes: number;
  /** Floats per token state (256 entering layer 0, 512 entering layer 1), or per text for features (512). */
  width: number;
}

/** The frozen encoder's features (`.embed`) or its states entering layer `plan.cached` (`.states`) for `texts`. */
export async function prepareExamples(use: TrainableUseLite, plan: ConfigurationPlan, texts: string[], labels: Int32Array): Promise<PreparedExamples> {
  const started = performance.now();
  if (plan.cached === 'features') {
    const features = await use.embed(texts);
    return { examples: { features, labels, n: texts.length }, seconds: (performance.now() - started) / 1000, bytes: features.byteLength, width: use.dim };
  }
  const { states, tokens, width } = await use.states(texts, plan.cached);
  const seconds = (performance.now() - started) / 1000;
  const examples = { encoder: use.weights, fromLayer: plan.cached, states, tokens, width, labels, n: texts.length };
  return { examples, seconds, bytes: states.reduce((sum, s) => sum + s.byteLength, 0), width };
}

/** One timed local training. Bytes are bytes; seconds wall. */
export interface TrainingTiming {
  seconds: number;
  /** Wall seconds of each epoch (the first includes building the model and the optimiser). */
  epochSeconds: number[];
  /** Process RSS right before training. */
  rssBytesBefore: number;
  /** Highest process RSS read after any step. */
  peakRssBytes: number;
  /** Process RSS and tf.memory().numBytes right after training. */
  rssBytesAfter: number;
  tfBytesAfter: number;
  /** tf.memory().numTensors before and after (equal unless training left tensors behind). */
  tensorsBefore: number;
  tensorsAfter: number;
  /** Mean cross-entropy of the last epoch (a sanity check that it trained, not a result). */
  loss: number;
}

/** trainLocally from `start`, timed, after a full garbage collection so that no earlier garbage is paid for. */
export async function timeTraining(spec: ModelSpec, start: readonly NamedTensor[], examples: LabelledExamples, config: TrainingConfig): Promise<TrainingTiming> {
  collectGarbage();
  const tensorsBefore = tf.memory().numTensors;
  const stepsPerEpoch = Math.ceil(examples.n / config.batchSize);
  const epochEnds: number[] = [];
  const rssBytesBefore = process.memoryUsage.rss();
  let peakRssBytes = rssBytesBefore;
  const started = performance.now();
  const result = await trainLocally(spec, start, examples, config, {
    onProgress: (step) => {
      peakRssBytes = Math.max(peakRssBytes, process.memoryUsage.rss());
      if (step % stepsPerEpoch === 0) epochEnds.push(performance.now());
    },
  });
  const seconds = (performance.now() - started) / 1000;
  const memory = tf.memory();
  const epochSeconds = epochEnds.map((end, i) => (end - (i === 0 ? started : epochEnds[i - 1])) / 1000);
  return { seconds, epochSeconds, rssBytesBefore, peakRssBytes, rssBytesAfter: process.memoryUsage.rss(), tfBytesAfter: memory.numBytes, tensorsBefore, tensorsAfter: memory.numTensors, loss: result.metrics.loss };
}

/** Rows `rows` of `examples`. */
function rowsOf(examples: LabelledExamples, rows: number[]): LabelledExamples {
  const labels = Int32Array.from(rows, (row) => examples.labels[row]);
  if (isEncoderStates(examples)) {
    return { ...examples, states: rows.map((row) => examples.states[row]), tokens: Int32Array.from(rows, (row) => examples.tokens[row]), labels, n: rows.length };
  }
  const dim = examples.features.length / examples.n;
  const features = new Float32Array(rows.length * dim);
  rows.forEach((row, k) => features.set(examples.features.subarray(row * dim, (row + 1) * dim), k * dim));
  return { features, labels, n: rows.length };
}

/** One batch of `examples`: the `size` texts with the most tokens, or the fewest (any rows for features). */
function batchByLength(examples: LabelledExamples, size: number, which: 'longest' | 'shortest'): LabelledExamples {
  const order = Array.from({ length: examples.n }, (_, i) => i);
  if (isEncoderStates(examples)) order.sort((a, b) => (which === 'longest' ? examples.tokens[b] - examples.tokens[a] : examples.tokens[a] - examples.tokens[b]));
  return rowsOf(examples, order.slice(0, size));
}

/**
 * One untimed step on a batch of the shortest texts, so that a timed run does not pay for the first use of a
 * kernel, while growing the wasm heap as little as a step can.
 */
export async function warmUp(spec: ModelSpec, start: readonly NamedTensor[], examples: LabelledExamples, config: TrainingConfig): Promise<void> {
  await trainLocally(spec, start, batchByLength(examples, config.batchSize, 'shortest'), { ...config, localEpochs: 1 });
}

/**
 * Tensor bytes one training step holds above what was allocated before it (tf.profile's peak: the batch, every
 * intermediate of the forward and backward pass, which TF.js frees only when the step's scope ends, the
 * gradients, Adam's moments), for one batch of the longest texts. Untimed: the profiler reads every kernel's output.
 */
export async function peakStepBytes(spec: ModelSpec, start: readonly NamedTensor[], examples: LabelledExamples, config: TrainingConfig): Promise<number> {
  const batch = batchByLength(examples, config.batchSize, 'longest');
  const before = tf.memory().numBytes;
  const profile = await tf.profile(async () => {
    await trainLocally(spec, start, batch, { ...config, localEpochs: 1 });
  });
  return profile.peakBytes - before;
}
