// Synthetic data for the trainable part's tests: seeded Gaussian clusters, one per label, that a linear
// classifier separates well; and the cpu backend, independent of the app's backend choice. Not exported from
// the barrel.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import type { ModelSpec } from '@fedtl/protocol';
import { seededRandom } from '@fedtl/util';
import type { LabelledFeatures } from './local-training';

/** n examples in `dim` dimensions; label c is centred at `separation` along axis c, with unit Gaussian noise. */
export function gaussianClusters(
  n: number,
  dim: number,
  numLabels: number,
  seed: number,
  separation = 3,
): LabelledFeatures {
  const random = seededRandom(seed);
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const features = new Float32Array(n * dim);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const label = i % numLabels;
    labels[i] = label;
    for (let j = 0; j < dim; j++) features[i * dim + j] = gaussian() + (j === label ? separation : 0);
  }
  return { features, labels, n };
}

export function specFor(overrides: Partial<ModelSpec> = {}): ModelSpec {
  return { inputDim: 16, adapterWidth: 4, head: 'linear', headHidden: 8, labels: ['neg', 'pos'], ...overrides };
}

/** The cpu backend, with tfjs's test mode on: it checks every kernel for leaked memory and stays quiet. */
export async function useCpuBackend(): Promise<void> {
  tf.env().set('IS_TEST', true);
  await tf.setBackend('cpu');
}
