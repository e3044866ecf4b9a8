// Softmax cross-entropy, the loss every trainable part of fedtl minimises and reports.
import * as tf from '@tensorflow/tfjs-core';

/**
 * The summed softmax cross-entropy −Σᵢ log softmax(logitsᵢ)[labelᵢ] over the rows of `logits` [n, numLabels],
 * with `labels` [n] int32 class indices. Differentiable in `logits` (tf.logSoftmax is numerically stable).
 */
export function summedCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D, numLabels: number): tf.Scalar {
  return tf.tidy(() => tf.neg(tf.sum(tf.mul(tf.oneHot(labels, numLabels), tf.logSoftmax(logits)))) as tf.Scalar);
}

/** The mean over rows of `summedCrossEntropy` (a batch's training loss); NaN for an empty batch. */
export function meanCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D, numLabels: number): tf.Scalar {
  return tf.tidy(() => tf.div(summedCrossEntropy(logits, labels, numLabels), logits.shape[0]) as tf.Scalar);
}
