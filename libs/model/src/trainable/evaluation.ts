// Evaluation of global (or local) adapter+head weights on a client's labelled test features, and the pure
// classification metrics behind it.
import * as tf from '@tensorflow/tfjs-core';
import type { ModelSpec, NamedTensor } from '@fedtl/protocol';
import { AdapterHeadModel } from './adapter-head-model';
import { summedCrossEntropy } from './cross-entropy';
import { type LabelledExamples, checkLabelledFeatures, featuresOf, isEncoderStates } from './local-training';

/** Rows per forward pass, so memory stays bounded on large test sets. */
const EVALUATE_CHUNK_ROWS = 8192;

export interface LabelCounts {
  /** Examples whose true label is this one. */
  support: number;
  /** Of those, how many were predicted right (true positives). */
  correct: number;
  /** Examples predicted as this label, right or wrong. */
  predicted: number;
  /** 2·tp / (2·tp + fp + fn); null for a label neither present nor predicted. */
  f1: number | null;
}

export interface ClassificationMetrics {
  accuracy: number;
  /**
   * Unweighted mean of the per-label F1 over the labels that occur in `actual` or in `predicted`. A label that
   * is predicted but never true counts with F1 = 0 (all false positives); a label that occurs in neither is
   * left out, since its F1 is undefined and it says nothing about this data.
   */
  macroF1: number;
  perLabel: LabelCounts[];
}

/**
 * Accuracy, macro-F1 and per-label counts from predicted and true label indices in [0, numLabels).
 * Over zero examples, accuracy and macroF1 are NaN (undefined).
 */
export function classificationMetrics(
  predicted: Int32Array,
  actual: Int32Array,
  numLabels: number,
): ClassificationMetrics {
  if (!Number.isInteger(numLabels) || numLabels < 1) {
    throw new RangeError(`classificationMetrics: numLabels must be an integer ≥ 1, got ${numLabels}`);
  }
  if (predicted.length !== actual.length) {
    throw new RangeError(`classificationMetrics: ${predicted.length} predictions for ${actual.length} labels`);
  }
  const support = new Array<number>(numLabels).fill(0);
  const correct = new Array<number>(numLabels).fill(0);
  const predictedCount = new Array<number>(numLabels).fill(0);
  for (let i = 0; i < actual.length; i++) {
    const truth = actual[i];
    const guess = predicted[i];
    if (!(truth >= 0 && truth < numLabels) || !(guess >= 0 && guess < numLabels)) {
      throw new RangeError(
        `classificationMetrics: example ${i}: expected label and prediction in [0, ${numLabels}), ` +
          `got ${truth} and ${guess}`,
      );
    }
    support[truth] += 1;
    predictedCount[guess] += 1;
    if (truth === guess) correct[truth] += 1;
  }
  const perLabel = support.map((s, label): LabelCounts => {
    const p = predictedCount[label];
    const f1 = s + p === 0 ? null : (2 * correct[label]) / (s + p);
    return { support: s, correct: correct[label], predicted: p, f1 };
  });
  const scored = perLabel.filter((counts) => counts.f1 !== null);
  const totalCorrect = correct.reduce((a, b) => a + b, 0);
  return {
    accuracy: actual.length === 0 ? NaN : totalCorrect / actual.length,
    macroF1: scored.length === 0 ? NaN : scored.reduce((sum, counts) => sum + (counts.f1 as number), 0) / scored.length,
    perLabel,
  };
}

export interface EvaluationResult {
  numExamples: number;
  /** accuracy, macroF1 (see classificationMetrics) and mean softmax cross-entropy. */
  metrics: { accuracy: number; macroF1: number; loss: number };
  /** Per label name: how many test examples carried it and how many of those were predicted right. */
  perLabel: Record<string, { support: number; correct: number }>;
}

/**
 * Evaluates `weights` on `examples` (at least one): backbone features, or for a spec with LoRA the frozen encoder's
 * states, which run through the adapted encoder once. Leaves no tensors behind.
 * @throws FedtlError FEDTL_ERR_BAD_DATA for examples that do not fit the spec, as checkLabelledFeatures.
 */
export async function evaluate(
  spec: ModelSpec,
  weights: readonly NamedTensor[],
  examples: LabelledExamples,
): Promise<EvaluationResult> {
  checkLabelledFeatures(spec, examples, 1);
  const { n } = examples;
  const d = spec.inputDim;
  const numLabels = spec.labels.length;
  const predicted = new Int32Array(n);
  let lossSum = 0;
  const model = new AdapterHeadModel(spec, weights, isEncoderStates(examples) ? examples.encoder : undefined);
  try {
    const data = await featuresOf(model, examples);
    for (let start = 0; start < n; start += EVALUATE_CHUNK_ROWS) {
      const rows = Math.min(EVALUATE_CHUNK_ROWS, n - start);
      const [guesses, loss] = tf.tidy(() => {
        const x = tf.tensor2d(data.features.subarray(start * d, (start + rows) * d), [rows, d]);
        const labels = tf.tensor1d(data.labels.subarray(start, start + rows), 'int32');
        const logits = model.logits(x);
        return [tf.argMax(logits, 1), summedCrossEntropy(logits, labels, numLabels)];
      });
      try {
        predicted.set(await guesses.data(), start);
        lossSum += (await loss.data())[0];
      } finally {
        guesses.dispose();
        loss.dispose();
      }
    }
  } finally {
    model.dispose();
  }
  const metrics = classificationMetrics(predicted, examples.labels, numLabels);
  const perLabel: EvaluationResult['perLabel'] = {};
  spec.labels.forEach((label, i) => {
    perLabel[label] = { support: metrics.perLabel[i].support, correct: metrics.perLabel[i].correct };
  });
  return {
    numExamples: n,
    metrics: { accuracy: metrics.accuracy, macroF1: metrics.macroF1, loss: lossSum / n },
    perLabel,
  };
}
