// Local training on one client: start from the global adapter+head, run minibatch SGD or Adam on softmax
// cross-entropy over the client's cached backbone features, and return the delta (local − global).
//
// The optional proximal term μ/2·‖w − w_global‖² is FedProx's client-side change (Li et al., "Federated
// Optimization in Heterogeneous Networks", MLSys 2020, https://arxiv.org/abs/1812.06127); μ = 0 is FedAvg.
// The optional inner step α is Per-FedAvg's, first-order variant (Fallah, Mokhtari, Ozdaglar, NeurIPS 2020,
// https://arxiv.org/abs/2002.07948, Algorithm 1 with the Hessian term dropped): each step adapts the weights
// by one SGD step of size α on a batch D, then moves the weights (from where they were) by the optimiser along
// the gradient at the adapted point on the next batch D'.
import * as tf from '@tensorflow/tfjs-core';
import type { ModelSpec, NamedTensor, TrainingConfig } from '@fedtl/protocol';
import { FedtlError, describeValue, seededRandom, shuffled } from '@fedtl/util';
import type { ProgressCallback } from '../progress-callback';
import { AdapterHeadModel, checkFeatures, type BatchGradients } from './adapter-head-model';
import { divergedError, firstNonFinite } from './divergence';
import { lengthGroupedBatches, statesBatch, type LabelledEncoderStates } from './encoder-states';
import { LORA_PREFIX, firstLoraLayer } from './lora-spec';
import { checkTrainableWeights } from './trainable-spec';

/** n examples: features row-major (n × inputDim), labels as indices into `spec.labels`. */
export interface LabelledFeatures {
  features: Float32Array;
  labels: Int32Array;
  n: number;
}

/** What a model trains and is evaluated on: backbone features, or (a spec with LoRA) the frozen encoder's states. */
export type LabelledExamples = LabelledFeatures | LabelledEncoderStates;

export function isEncoderStates(data: LabelledExamples): data is LabelledEncoderStates {
  return 'states' in data;
}

/** Rows per pass when a model with LoRA turns states into features (evaluation, head-only training). */
const STATES_CHUNK_ROWS = 32;

/**
 * Padded tokens per forward-and-backward pass through the encoder (8 texts at use-lite's 128-token cap): a step's
 * activations take about 32 MiB per 128 tokens on wasm, so a larger batch runs as several such micro-batches.
 */
export const MICRO_BATCH_TOKENS = 1024;

/**
 * `rows` cut, in order, into consecutive parts whose padded size (rows × the longest's tokens) stays within
 * `budget`; a part holds at least one row. Rows of similar length (lengthGroupedBatches) make few parts.
 */
export function microBatches(rows: readonly number[], tokens: Int32Array, budget: number): number[][] {
  const parts: number[][] = [];
  let part: number[] = [];
  let longest = 0;
  for (const row of rows) {
    const nextLongest = Math.max(longest, tokens[row], 1);
    if (part.length > 0 && (part.length + 1) * nextLongest > budget) {
      parts.push(part);
      part = [];
      longest = 0;
    }
    part.push(row);
    longest = Math.max(longest, tokens[row], 1);
  }
  if (part.length > 0) parts.push(part);
  return parts;
}

function mapValues(record: Record<string, tf.Tensor>, f: (value: tf.Tensor, key: string) => tf.Tensor): Record<string, tf.Tensor> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, f(value, key)]));
}

export interface LocalTrainingOptions {
  /** FedProx proximal coefficient μ ≥ 0. Default 0 (plain local SGD, as FedAvg). */
  proximalMu?: number;
  /**
   * Which tensors train; the others stay frozen (their delta is zero). Default: all. Personalisation uses it to
   * fine-tune only the head on top of the shared adapter (FedRep-style).
   */
  trainable?: (name: string) => boolean;
  /**
   * Per-FedAvg's inner SGD step size α > 0; default 0 (ordinary steps). The batches of an epoch are visited in
   * their shuffled order: batch k is D and batch k + 1 (wrapping to the first) is D', so every example serves
   * once as each; with one batch per epoch D' = D. Not together with proximalMu.
   */
  metaInnerLearningRate?: number;
  /** Called after every step with (steps taken, localEpochs × batches per epoch), e.g. to show a progress bar. */
  onProgress?: ProgressCallback;
  /**
   * A model of `spec` to train in, reused across calls: its weights are set to `global` first, and it is left
   * alive (holding the trained weights) for the caller. Default: a model made for this call and disposed after.
   * A simulation's worker trains many clients one after the other in one such model.
   */
  model?: AdapterHeadModel;
}

export interface LocalTrainingResult {
  /** local − global for every trainable tensor, in the order and with the names of `global`. */
  delta: NamedTensor[];
  numExamples: number;
  /**
   * Mean cross-entropy and accuracy over the last epoch, each batch measured before its step (with a Per-FedAvg
   * step: batch D′ at the adapted weights, the meta-objective, so not comparable with plain training's); wall
   * seconds.
   */
  metrics: { loss: number; accuracy: number; seconds: number };
}

export function checkTrainingConfig(config: TrainingConfig): void {
  const bad = (field: string, expected: string, value: unknown) =>
    new FedtlError(
      'FEDTL_ERR_BAD_CONFIG',
      `training config: ${field} must be ${expected}, got ${describeValue(value)}`,
      { field },
    );
  if (!Number.isInteger(config.localEpochs) || config.localEpochs < 1) {
    throw bad('localEpochs', 'an integer ≥ 1', config.localEpochs);
  }
  if (!Number.isInteger(config.batchSize) || config.batchSize < 1) {
    throw bad('batchSize', 'an integer ≥ 1', config.batchSize);
  }
  if (!Number.isFinite(config.learningRate) || config.learningRate <= 0) {
    throw bad('learningRate', 'positive and finite', config.learningRate);
  }
  if (config.optimizer !== 'sgd' && config.optimizer !== 'adam') {
    throw bad('optimizer', '"sgd" or "adam"', config.optimizer);
  }
  if (!Number.isInteger(config.seed)) throw bad('seed', 'an integer', config.seed);
}

/**
 * Checks that `data` holds n ≥ minRows labelled rows for `spec`: features for a spec without LoRA, the encoder's
 * states entering the first LoRA layer for one with it.
 * @throws FedtlError FEDTL_ERR_BAD_DATA naming what was expected and what came.
 */
export function checkLabelledFeatures(spec: ModelSpec, data: LabelledExamples, minRows: number): void {
  if (isEncoderStates(data)) checkEncoderStates(spec, data);
  else if (spec.lora) throw new FedtlError('FEDTL_ERR_BAD_DATA', 'expected the encoder states a model with LoRA trains on, got backbone features');
  else checkFeatures(spec, data.features, data.n);
  if (data.n < minRows) {
    throw new FedtlError('FEDTL_ERR_BAD_DATA', `expected at least ${minRows} examples, got ${data.n}`, { n: data.n });
  }
  if (data.labels.length !== data.n) {
    throw new FedtlError('FEDTL_ERR_BAD_DATA', `expected ${data.n} labels, got ${data.labels.length}`, {
      n: data.n,
    });
  }
  const numLabels = spec.labels.length;
  const index = data.labels.findIndex((label) => !(label >= 0 && label < numLabels));
  if (index >= 0) {
    throw new FedtlError(
      'FEDTL_ERR_BAD_DATA',
      `example ${index}: expected a label index in [0, ${numLabels}), got ${data.labels[index]}`,
      { index },
    );
  }
}

function checkEncoderStates(spec: ModelSpec, data: LabelledEncoderStates): void {
  if (!spec.lora) throw new FedtlError('FEDTL_ERR_BAD_DATA', 'expected backbone features for a model without LoRA, got encoder states');
  const fromLayer = firstLoraLayer(spec.lora);
  if (!Number.isInteger(data.fromLayer) || data.fromLayer < 0 || data.fromLayer > fromLayer) {
    throw new FedtlError('FEDTL_ERR_BAD_DATA', `expected encoder states entering layer ${fromLayer} or below (the first with LoRA), got states entering layer ${data.fromLayer}`);
  }
  if (data.states.length !== data.n || data.tokens.length !== data.n) {
    throw new FedtlError('FEDTL_ERR_BAD_DATA', `expected ${data.n} examples' states and token counts, got ${data.states.length} and ${data.tokens.length}`);
  }
  const bad = data.states.findIndex((states, i) => states.length !== data.tokens[i] * data.width);
  if (bad >= 0) {
    throw new FedtlError('FEDTL_ERR_BAD_DATA', `example ${bad}: expected ${data.tokens[bad]} tokens × ${data.width} state values, got ${data.states[bad].length} values`);
  }
}

/**
 * `data` as features: unchanged when it holds features, else the rest of the encoder run once over the states
 * with `model`'s current LoRA pairs (in chunks of similar length). For training that leaves every LoRA tensor
 * frozen and for evaluation, so the encoder runs once per example rather than once per step.
 */
export async function featuresOf(model: AdapterHeadModel, data: LabelledExamples): Promise<LabelledFeatures> {
  if (!isEncoderStates(data)) return data;
  const dim = model.spec.inputDim;
  const features = new Float32Array(data.n * dim);
  const byLength = Array.from({ length: data.n }, (_, i) => i).sort((a, b) => data.tokens[b] - data.tokens[a]);
  for (let start = 0; start < data.n; start += STATES_CHUNK_ROWS) {
    const rows = byLength.slice(start, start + STATES_CHUNK_ROWS);
    const batch = statesBatch(data, rows);
    let out: tf.Tensor2D | undefined;
    try {
      out = model.features(batch);
      const values = (await out.data()) as Float32Array;
      rows.forEach((row, k) => features.set(values.subarray(k * dim, (k + 1) * dim), row * dim));
    } finally {
      tf.dispose([batch.states, batch.lengths, ...(out ? [out] : [])]);
    }
    await yieldToEventLoop();
  }
  return { features, labels: data.labels, n: data.n };
}

/** The plan's optimiser: SGD, or Adam with TF.js's β₁ 0.9, β₂ 0.999, ε 1e-7. */
export function createOptimizer(config: TrainingConfig): tf.Optimizer {
  return config.optimizer === 'adam' ? tf.train.adam(config.learningRate) : tf.train.sgd(config.learningRate);
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Replaces `sum` by `sum + value` and releases both old tensors. */
function accumulate(sum: tf.Scalar, value: tf.Scalar): tf.Scalar {
  const next = tf.add(sum, value) as tf.Scalar;
  sum.dispose();
  value.dispose();
  return next;
}

export async function trainLocally(
  spec: ModelSpec,
  global: readonly NamedTensor[],
  examples: LabelledExamples,
  config: TrainingConfig,
  options: LocalTrainingOptions = {},
): Promise<LocalTrainingResult> {
  const proximalMu = options.proximalMu ?? 0;
  if (!Number.isFinite(proximalMu) || proximalMu < 0) {
    throw new RangeError(`trainLocally: proximalMu must be finite and ≥ 0, got ${proximalMu}`);
  }
  const alpha = options.metaInnerLearningRate ?? 0;
  if (!Number.isFinite(alpha) || alpha < 0) {
    throw new RangeError(`trainLocally: metaInnerLearningRate must be finite and ≥ 0, got ${alpha}`);
  }
  if (alpha > 0 && proximalMu > 0) {
    throw new RangeError(`trainLocally: expected a Per-FedAvg step or a FedProx term, got both (metaInnerLearningRate ${alpha}, proximalMu ${proximalMu})`);
  }
  checkTrainingConfig(config);
  checkLabelledFeatures(spec, examples, 1);
  const ordered = checkTrainableWeights(spec, global);

  const started = performance.now();
  const { n } = examples;
  const random = seededRandom(config.seed);
  const indices = Array.from({ length: n }, (_, i) => i);
  const trainsName = (name: string) => !options.trainable || options.trainable(name);

  const reused = options.model;
  if (reused && !sameModelSpec(reused.spec, spec)) {
    throw new RangeError(`trainLocally: expected options.model of the spec ${JSON.stringify(spec)}, got one of ${JSON.stringify(reused.spec)}`);
  }
  reused?.setWeights(ordered);
  const model = reused ?? new AdapterHeadModel(spec, ordered, isEncoderStates(examples) ? examples.encoder : undefined);
  const optimizer = createOptimizer(config);
  let xAll: tf.Tensor2D | undefined;
  let yAll: tf.Tensor1D | undefined;
  const anchors = proximalMu > 0 ? ordered.map((t) => tf.tensor(t.data, t.shape, 'float32')) : [];
  let lossSum = tf.scalar(0);
  let correctSum = tf.scalar(0);
  try {
    // With every LoRA tensor frozen (a head-only step), the encoder's output cannot change: compute it once.
    const loraTrains = ordered.some((t) => t.name.startsWith(LORA_PREFIX) && trainsName(t.name));
    const data = loraTrains ? examples : await featuresOf(model, examples);
    const states = isEncoderStates(data) ? data : undefined;
    if (!isEncoderStates(data)) xAll = tf.tensor2d(data.features, [n, spec.inputDim]);
    yAll = tf.tensor1d(data.labels, 'int32');
    const labelsAll = yAll;
    const variables = model.trainableVariables;
    const names = ordered.map((t) => t.name);
    const stepsPerEpoch = Math.ceil(n / config.batchSize);
    for (let epoch = 0; epoch < config.localEpochs; epoch++) {
      const lastEpoch = epoch === config.localEpochs - 1;
      const order = shuffled(indices, random);
      const batches: number[][] = [];
      if (states) batches.push(...lengthGroupedBatches(order, states.tokens, config.batchSize, random));
      else for (let start = 0; start < n; start += config.batchSize) batches.push(order.slice(start, start + config.batchSize));
      for (const [k, batchRows] of batches.entries()) {
        const step = tf.tidy(() => {
          const gradientsOf = (rows: number[]): BatchGradients => {
            const y = (part: readonly number[]) => tf.gather(labelsAll, tf.tensor1d(part as number[], 'int32')) as tf.Tensor1D;
            if (!states) return model.lossAndGradients(tf.gather(xAll as tf.Tensor2D, tf.tensor1d(rows, 'int32')) as tf.Tensor2D, y(rows), trainsName);
            // Through the encoder, activations grow with the batch's padded tokens: micro-batches bound them, and
            // their gradients, weighted by their share of the rows, add up to the whole batch's mean.
            const parts = microBatches(rows, states.tokens, MICRO_BATCH_TOKENS);
            if (parts.length === 1) return model.lossAndGradients(statesBatch(states, rows), y(rows), trainsName);
            let sum: BatchGradients | undefined;
            for (const part of parts) {
              const weight = part.length / rows.length;
              const next = model.lossAndGradients(statesBatch(states, part), y(part), trainsName);
              const scaled = { loss: tf.mul(next.loss, weight) as tf.Scalar, correct: next.correct, gradients: mapValues(next.gradients, (g) => tf.mul(g, weight)) };
              sum = sum === undefined ? scaled : { loss: tf.add(sum.loss, scaled.loss) as tf.Scalar, correct: tf.add(sum.correct, scaled.correct) as tf.Scalar, gradients: mapValues(sum.gradients, (g, name) => tf.add(g, scaled.gradients[name])) };
            }
            return sum as BatchGradients;
          };
          const trains = (i: number) => trainsName(names[i]);
          let measured = batchRows;
          let saved: tf.Tensor[] = [];
          if (alpha > 0) {
            // Per-FedAvg (FO): adapt on D, then take the gradient at the adapted weights on D' (below).
            const { gradients: innerGradients } = gradientsOf(batchRows);
            saved = variables.map((v) => tf.clone(v));
            variables.forEach((v, i) => {
              if (trains(i)) v.assign(tf.sub(v, tf.mul(innerGradients[names[i]], alpha)));
            });
            measured = batches[(k + 1) % batches.length];
          }
          const { loss, correct, gradients } = gradientsOf(measured);
          // Back to w: the optimiser moves w itself, along the gradient taken at the adapted point.
          saved.forEach((value, i) => variables[i].assign(value));
          // Keyed by the engine's variable names, as Optimizer.applyGradients expects.
          const byVariable: tf.NamedTensorMap = {};
          names.forEach((name, i) => {
            if (!trains(i)) return;
            const gradient = gradients[name];
            // d/dw of μ/2·‖w − w_global‖² is μ·(w − w_global).
            byVariable[variables[i].name] =
              proximalMu === 0 ? gradient : tf.add(gradient, tf.mul(tf.sub(variables[i], anchors[i]), proximalMu));
          });
          return { lossSum: tf.mul(loss, measured.length) as tf.Scalar, correct, byVariable };
        });
        try {
          optimizer.applyGradients(step.byVariable);
        } catch (err) {
          tf.dispose([step.lossSum, step.correct]);
          throw err;
        } finally {
          tf.dispose(step.byVariable);
        }
        if (lastEpoch) {
          lossSum = accumulate(lossSum, step.lossSum);
          correctSum = accumulate(correctSum, step.correct);
        } else {
          tf.dispose([step.lossSum, step.correct]);
        }
        options.onProgress?.(epoch * stepsPerEpoch + k + 1, config.localEpochs * stepsPerEpoch);
        await yieldToEventLoop();
      }
    }
    const [loss] = await lossSum.data();
    const [accuracy] = await correctSum.data();
    const delta = deltaFrom(global, model);
    // A NaN or infinite loss poisons every later step, so the last epoch's mean shows any divergence; the
    // weights are checked too, since a loss can stay finite for a step while the weights overflow.
    if (!Number.isFinite(loss)) throw divergedError(`the local training loss is ${loss / n}`, config);
    const bad = firstNonFinite(delta);
    if (bad) throw divergedError(`local training left ${bad.value} in tensor '${bad.tensor}' at index ${bad.index}`, config);
    return {
      delta,
      numExamples: n,
      metrics: { loss: loss / n, accuracy: accuracy / n, seconds: (performance.now() - started) / 1000 },
    };
  } finally {
    if (!reused) model.dispose();
    optimizer.dispose();
    xAll?.dispose();
    yAll?.dispose();
    for (const anchor of anchors) anchor.dispose();
    lossSum.dispose();
    correctSum.dispose();
  }
}

function sameModelSpec(a: ModelSpec, b: ModelSpec): boolean {
  return (
    a.inputDim === b.inputDim &&
    a.adapterWidth === b.adapterWidth &&
    a.head === b.head &&
    a.headHidden === b.headHidden &&
    a.labels.join('\u0000') === b.labels.join('\u0000') &&
    JSON.stringify(a.lora ?? null) === JSON.stringify(b.lora ?? null)
  );
}

/** `model`'s weights minus `global`, tensor by tensor, in `global`'s order and names. */
export function deltaFrom(global: readonly NamedTensor[], model: AdapterHeadModel): NamedTensor[] {
  const localByName = new Map(model.getWeights().map((t) => [t.name, t.data]));
  return global.map((tensor): NamedTensor => {
    const after = localByName.get(tensor.name) as Float32Array;
    const before = tensor.data;
    const data = new Float32Array(before.length);
    for (let i = 0; i < data.length; i++) data[i] = after[i] - before[i];
    return { name: tensor.name, shape: tensor.shape.slice(), dtype: 'float32', data };
  });
}
