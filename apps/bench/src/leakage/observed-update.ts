// What the coordinator receives from one client in one round, as the leakage audit's attacks see it: the
// tensors of the update (named like the model's trainable tensors), how many examples the client declared, and
// what the coordinator itself knows (the model spec, the global weights it sent and the plan it chose).
// Also the one place that produces an honest update: the client's own local training (libs/model
// trainLocally, as apps/client's Learner.fit runs it), delta = local − global per named tensor; and, with
// differential privacy on, the update a DP client sends (trainLocallyDpSgd; or its delta clipped to S and noised,
// with @fedtl/privacy's clipInPlace and addGaussianNoiseInPlace).
import { trainLocally, trainLocallyDpSgd, type LabelledFeatures } from '@fedtl/model';
import type { ModelSpec, NamedTensor, TrainingConfig } from '@fedtl/protocol';
import { addGaussianNoiseInPlace, clipInPlace, gaussianFrom, type DpRandomness } from '@fedtl/privacy';
import { FedtlError, seededRandom } from '@fedtl/util';

/** An update as the coordinator holds it. `delta` may be a real delta, a sum of deltas or a decoded masked vector. */
export interface ObservedUpdate {
  spec: ModelSpec;
  /** The global weights the coordinator sent (spec order). */
  global: readonly NamedTensor[];
  /** The plan the coordinator sent with them. */
  plan: TrainingConfig;
  /** What came back, by tensor name, same shapes as `global`. */
  delta: readonly NamedTensor[];
  /** The example count the update declares (the protocol's Update.numExamples; for a sum, the total). */
  numExamples: number;
  /**
   * Set when the plan asked for DP (the coordinator knows its own plan): with noise every coordinate moves, so
   * "the layer moved" no longer tells which layers a gradient reached. `localSteps`: the client's optimiser steps.
   */
  privacy?: { mechanism: 'dp-sgd' | 'dp-fedavg'; localSteps: number };
}

/**
 * The delta a client sends for `plan` on `data`, computed by the project's own local training (trainLocally),
 * with the client's shuffle seed derived as apps/client does. Throws what trainLocally throws (bad config,
 * bad data, divergence).
 */
export async function honestUpdate(spec: ModelSpec, global: readonly NamedTensor[], data: LabelledFeatures, plan: TrainingConfig): Promise<ObservedUpdate> {
  const result = await trainLocally(spec, global, data, plan);
  return { spec, global, plan, delta: result.delta, numExamples: result.numExamples };
}

/**
 * The delta of record-level DP-SGD (libs/model trainLocallyDpSgd, the client's own code) with C = `clipNorm`, σ =
 * `noiseMultiplier` and the sampling and noise drawn from `randomness`.
 */
export async function dpSgdUpdate(
  spec: ModelSpec,
  global: readonly NamedTensor[],
  data: LabelledFeatures,
  plan: TrainingConfig,
  dp: { clipNorm: number; noiseMultiplier: number; randomness: DpRandomness },
): Promise<ObservedUpdate> {
  const result = await trainLocallyDpSgd(spec, global, data, plan, dp);
  return { spec, global, plan, delta: result.delta, numExamples: result.numExamples, privacy: { mechanism: 'dp-sgd', localSteps: result.privacy.steps } };
}

/**
 * Client-level DP-FedAvg applied to `update`: a copy of its delta, all tensors together clipped to L2 norm
 * `clipNorm` (S), plus N(0, (z·S)²) on every coordinate from `randomness`. Also returns the norm before clipping.
 */
export function dpFedAvgUpdate(update: ObservedUpdate, dp: { clipNorm: number; noiseMultiplier: number; randomness: DpRandomness }): { observed: ObservedUpdate; normBefore: number } {
  const delta = update.delta.map((t) => ({ name: t.name, shape: t.shape.slice(), dtype: 'float32' as const, data: Float32Array.from(t.data) }));
  const values = delta.map((t) => t.data);
  const { norm } = clipInPlace(values, dp.clipNorm);
  addGaussianNoiseInPlace(values, dp.noiseMultiplier * dp.clipNorm, dp.randomness);
  const { plan, numExamples } = update;
  const localSteps = plan.localEpochs * Math.ceil(numExamples / plan.batchSize);
  return { observed: { ...update, delta, privacy: { mechanism: 'dp-fedavg', localSteps } }, normBefore: norm };
}

/**
 * A DpRandomness from `seed` (mulberry32 uniforms, Box–Muller normals). A client's real source is node:crypto
 * (cryptoRandomness); the audit seeds its DP sampling and noise only so that a report repeats exactly for a --seed.
 */
export function seededDpRandomness(seed: number): DpRandomness {
  return gaussianFrom(seededRandom(seed));
}

/** The tensor named `name` of an update. Throws FEDTL_ERR_BAD_TENSOR_NAME when it is missing. */
export function tensorOf(tensors: readonly NamedTensor[], name: string): NamedTensor {
  const tensor = tensors.find((t) => t.name === name);
  if (!tensor) throw new FedtlError('FEDTL_ERR_BAD_TENSOR_NAME', `expected a tensor "${name}" in the update, got [${tensors.map((t) => t.name).join(', ')}]`);
  return tensor;
}

/** All tensors of an update, concatenated in their order, as one float64 vector. */
export function flattenUpdate(tensors: readonly NamedTensor[]): Float64Array {
  const total = tensors.reduce((sum, t) => sum + t.data.length, 0);
  const out = new Float64Array(total);
  let offset = 0;
  for (const tensor of tensors) {
    out.set(tensor.data, offset);
    offset += tensor.data.length;
  }
  return out;
}

/**
 * The inverse of flattenUpdate: `values` cut into tensors with the names and shapes of `like` (float32).
 * Throws FEDTL_ERR_BAD_TENSOR_SHAPE when the lengths do not add up.
 */
export function unflattenUpdate(values: ArrayLike<number>, like: readonly NamedTensor[]): NamedTensor[] {
  const total = like.reduce((sum, t) => sum + t.data.length, 0);
  if (values.length !== total) {
    throw new FedtlError('FEDTL_ERR_BAD_TENSOR_SHAPE', `expected ${total} values for [${like.map((t) => t.name).join(', ')}], got ${values.length}`);
  }
  let offset = 0;
  return like.map((t) => {
    const data = new Float32Array(t.data.length);
    for (let i = 0; i < data.length; i++) data[i] = values[offset + i];
    offset += data.length;
    return { name: t.name, shape: t.shape.slice(), dtype: 'float32', data };
  });
}
