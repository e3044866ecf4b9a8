// Small exact cases for the attacks' unit tests: a tiny adapter/head model with known inputs, trained by the
// project's own local training.
import { initialWeights, type LabelledFeatures } from '@fedtl/model';
import type { ModelSpec, TrainingConfig } from '@fedtl/protocol';
import { seededRandom } from '@fedtl/util';
import { honestUpdate, type ObservedUpdate } from './observed-update';

export const TINY_SPEC: ModelSpec = { inputDim: 16, adapterWidth: 4, head: 'linear', headHidden: 4, labels: ['a', 'b', 'c'] };

/** `n` seeded feature vectors of `dim` (uniform in [−1, 1]) with labels 0, 1, 2, 0… */
export function syntheticExamples(n: number, dim: number, seed: number): LabelledFeatures {
  const random = seededRandom(seed);
  const features = Float32Array.from({ length: n * dim }, () => 2 * random() - 1);
  return { features, labels: Int32Array.from({ length: n }, (_, i) => i % 3), n };
}

/** Row i of `data` as its own vector. */
export function row(data: LabelledFeatures, i: number, dim: number): Float32Array {
  return data.features.slice(i * dim, (i + 1) * dim);
}

/** The update a client sends for `plan` on `data`, from fresh global weights. */
export function tinyUpdate(data: LabelledFeatures, plan: Omit<TrainingConfig, 'seed'>, spec: ModelSpec = TINY_SPEC): Promise<ObservedUpdate> {
  return honestUpdate(spec, initialWeights(spec, 3), data, { ...plan, seed: 5 });
}
