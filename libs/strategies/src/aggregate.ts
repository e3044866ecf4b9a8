// Pure arithmetic of aggregation on plain typed arrays; no tensors, no I/O, tested alone.
//
// Sums are kept in float64 so that a weighted mean over many clients matches an exact reference to float32
// rounding; the order updates arrive in changes only the last float64 bits, far below float32's. Memory is O(model):
// two float64 arrays per tensor (the sums and the next sums, see addScaled), however many updates are added.
import type { NamedTensor } from '@fedtl/protocol';
import { FedtlError } from '@fedtl/util';
import { elementCount, layoutOf, matchLayout, requireFinite, type TensorLayout } from './tensor-layout';

/**
 * Running weighted sum of deltas, one update at a time. The layout (names and shapes) is given up front or taken
 * from the first delta; every later delta must match it (in any order), otherwise `add` throws a FedtlError
 * (FEDTL_ERR_BAD_TENSOR_NAME / _SHAPE / _DTYPE / _DATA, FEDTL_ERR_NON_FINITE, FEDTL_ERR_BAD_EXAMPLE_COUNT for
 * the weight) and the sums stay as they were.
 *
 * `mean()` with `totalWeight` is itself a complete partial aggregate: a parent can add it with that weight
 * and get the same mean as if it had seen every update (hierarchical coordinators).
 */
export class WeightedDeltaAccumulator {
  private layout: TensorLayout[] | null;
  private sums: Float64Array[] = [];
  /** Where the next sums are written; swapped with `sums` once every tensor of a delta has been added. */
  private nextSums: Float64Array[] = [];
  private added = 0;
  private weightSum = 0;

  constructor(layout?: readonly TensorLayout[]) {
    this.layout = null;
    if (layout) this.setLayout(layout);
  }

  /** How many deltas have been added. */
  get count(): number {
    return this.added;
  }

  /** Sum of the weights of the deltas added. */
  get totalWeight(): number {
    return this.weightSum;
  }

  add(delta: readonly NamedTensor[], weight: number): void {
    if (!Number.isFinite(weight) || weight <= 0) {
      throw new FedtlError('FEDTL_ERR_BAD_EXAMPLE_COUNT', `expected a positive finite weight, got ${weight}`, {
        weight,
      });
    }
    if (!this.layout) this.setLayout(layoutOf(delta));
    // Finiteness is checked in the same pass as the sum (addScaled), not in a pass of its own before it.
    const ordered = matchLayout(delta, this.layout as TensorLayout[], false);
    for (let t = 0; t < ordered.length; t++) {
      if (!addScaled(this.sums[t], ordered[t].data as Float32Array, weight, this.nextSums[t])) requireFinite(ordered[t]);
    }
    [this.sums, this.nextSums] = [this.nextSums, this.sums];
    this.added += 1;
    this.weightSum += weight;
  }

  /** The weighted mean of the deltas added, as float32 tensors in layout order. Throws when none was added. */
  mean(): NamedTensor[] {
    if (!this.layout || this.added === 0) {
      throw new Error('WeightedDeltaAccumulator.mean(): no delta was added');
    }
    const total = this.weightSum;
    return this.layout.map((entry, t) => {
      const sum = this.sums[t];
      const data = new Float32Array(sum.length);
      for (let i = 0; i < sum.length; i++) data[i] = sum[i] / total;
      return { name: entry.name, shape: entry.shape.slice(), dtype: 'float32', data };
    });
  }

  private setLayout(layout: readonly TensorLayout[]): void {
    const names = new Set<string>();
    for (const entry of layout) {
      if (names.has(entry.name)) {
        throw new FedtlError('FEDTL_ERR_BAD_TENSOR_NAME', `tensor "${entry.name}" appears twice`, {
          name: entry.name,
        });
      }
      names.add(entry.name);
    }
    this.layout = layout.map((entry) => ({ name: entry.name, shape: entry.shape.slice() }));
    this.sums = this.layout.map((entry) => new Float64Array(elementCount(entry.shape)));
    this.nextSums = this.layout.map((entry) => new Float64Array(elementCount(entry.shape)));
  }
}

/**
 * `next[i] = sums[i] + weight · values[i]` for every i, in one pass, and whether every value was finite; `sums` is
 * not written, so a delta with a NaN or ±Infinity anywhere leaves the caller's sums as they were (the caller
 * discards `next`). A value x is finite exactly when x − x is 0 (it is NaN for NaN and ±Infinity); those
 * differences are summed into four independent accumulators, unrolled by four, which checks every value for
 * about the cost of the multiply-add alone (a test and branch per value would double it).
 * Arrays of one length (`values` float32, `sums` and `next` float64); `weight` finite.
 */
export function addScaled(sums: Float64Array, values: Float32Array, weight: number, next: Float64Array): boolean {
  const length = sums.length;
  let nan0 = 0;
  let nan1 = 0;
  let nan2 = 0;
  let nan3 = 0;
  let i = 0;
  for (; i + 3 < length; i += 4) {
    const x0 = values[i];
    const x1 = values[i + 1];
    const x2 = values[i + 2];
    const x3 = values[i + 3];
    next[i] = sums[i] + weight * x0;
    next[i + 1] = sums[i + 1] + weight * x1;
    next[i + 2] = sums[i + 2] + weight * x2;
    next[i + 3] = sums[i + 3] + weight * x3;
    nan0 += x0 - x0;
    nan1 += x1 - x1;
    nan2 += x2 - x2;
    nan3 += x3 - x3;
  }
  for (; i < length; i++) {
    const x = values[i];
    next[i] = sums[i] + weight * x;
    nan0 += x - x;
  }
  return nan0 + nan1 + nan2 + nan3 === 0;
}

/** Weighted mean of whole deltas at once (the batch form of WeightedDeltaAccumulator). */
export function weightedMean(deltas: ReadonlyArray<readonly NamedTensor[]>, weights: readonly number[]): NamedTensor[] {
  if (deltas.length !== weights.length) {
    throw new RangeError(`weightedMean: ${deltas.length} deltas but ${weights.length} weights`);
  }
  if (deltas.length === 0) throw new RangeError('weightedMean: no deltas');
  const accumulator = new WeightedDeltaAccumulator();
  deltas.forEach((delta, i) => accumulator.add(delta, weights[i]));
  return accumulator.mean();
}

/**
 * `global + scale · delta`, per tensor, in `global`'s order. The delta must carry exactly the tensors of
 * `global` (in any order) with the same shapes; neither input is modified.
 */
export function applyDelta(
  global: readonly NamedTensor[],
  delta: readonly NamedTensor[],
  scale = 1,
): NamedTensor[] {
  if (!Number.isFinite(scale)) throw new RangeError(`applyDelta: scale must be finite, got ${scale}`);
  const layout = layoutOf(global);
  matchLayout(global, layout);
  const ordered = matchLayout(delta, layout);
  return global.map((tensor, t) => {
    const base = tensor.data;
    const change = ordered[t].data;
    const data = new Float32Array(base.length);
    for (let i = 0; i < data.length; i++) data[i] = base[i] + scale * change[i];
    return { name: tensor.name, shape: tensor.shape.slice(), dtype: 'float32', data };
  });
}

/**
 * Running weighted mean of metric records, key by key. A key counts only the records that carry a finite value
 * for it, so an optional metric (a baseline only some clients report) averages over those that have it.
 */
export class WeightedMetricsAccumulator {
  private readonly sums = new Map<string, { weighted: number; weight: number }>();

  add(metrics: Readonly<Record<string, number>>, weight: number): void {
    if (!Number.isFinite(weight) || weight <= 0) {
      throw new RangeError(`WeightedMetricsAccumulator.add: weight must be positive and finite, got ${weight}`);
    }
    for (const [key, value] of Object.entries(metrics)) {
      if (!Number.isFinite(value)) continue;
      const sum = this.sums.get(key) ?? { weighted: 0, weight: 0 };
      sum.weighted += weight * value;
      sum.weight += weight;
      this.sums.set(key, sum);
    }
  }

  mean(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [key, sum] of this.sums) out[key] = sum.weighted / sum.weight;
    return out;
  }
}

/** Hyperparameters of one server-side Adam step (FedAdam). */
export interface ServerAdamSettings {
  learningRate: number;
  beta1: number;
  beta2: number;
  tau: number;
}

function checkSameLength(step: string, arrays: readonly Float32Array[]): void {
  const length = arrays[0].length;
  if (arrays.some((array) => array.length !== length)) {
    throw new RangeError(`${step}: expected arrays of one length, got ${arrays.map((a) => a.length).join(', ')}`);
  }
}

/**
 * One server momentum step on one tensor (FedAvgM): m ← β·m + g, then x ← x + η·m. The pseudo-gradient g is the
 * round's mean delta, local − global, so it already points downhill and is added. `momentum` is updated in
 * place and the new weights returned. Each element is computed in float64 and stored in float32: the stored
 * momentum is exactly what the next step, or a run resumed from a checkpoint of it, starts from.
 */
export function serverMomentumStep(
  weights: Float32Array,
  momentum: Float32Array,
  pseudoGradient: Float32Array,
  beta: number,
  learningRate: number,
): Float32Array {
  checkSameLength('serverMomentumStep', [weights, momentum, pseudoGradient]);
  const next = new Float32Array(weights.length);
  for (let i = 0; i < next.length; i++) {
    momentum[i] = beta * momentum[i] + pseudoGradient[i];
    next[i] = weights[i] + learningRate * momentum[i];
  }
  return next;
}

/**
 * One server Adam step on one tensor (FedAdam, Algorithm 2 of Reddi et al., without bias correction):
 * m ← β₁·m + (1 − β₁)·g, v ← β₂·v + (1 − β₂)·g², x ← x + η·m / (√v + τ). `firstMoment` (m) and `secondMoment`
 * (v) are updated in place, in float32 as in serverMomentumStep; the new weights are returned.
 */
export function serverAdamStep(
  weights: Float32Array,
  firstMoment: Float32Array,
  secondMoment: Float32Array,
  pseudoGradient: Float32Array,
  settings: ServerAdamSettings,
): Float32Array {
  checkSameLength('serverAdamStep', [weights, firstMoment, secondMoment, pseudoGradient]);
  const { learningRate, beta1, beta2, tau } = settings;
  const next = new Float32Array(weights.length);
  for (let i = 0; i < next.length; i++) {
    const g = pseudoGradient[i];
    firstMoment[i] = beta1 * firstMoment[i] + (1 - beta1) * g;
    secondMoment[i] = beta2 * secondMoment[i] + (1 - beta2) * g * g;
    next[i] = weights[i] + (learningRate * firstMoment[i]) / (Math.sqrt(secondMoment[i]) + tau);
  }
  return next;
}

/** Hyperparameters of one server-side Yogi step (FedYogi); the same as Adam's. */
export type ServerYogiSettings = ServerAdamSettings;

/**
 * One server Yogi step on one tensor (FedYogi, Algorithm 2 of Reddi et al.): m ← β₁·m + (1 − β₁)·g,
 * v ← v − (1 − β₂)·g²·sign(v − g²), x ← x + η·m / (√v + τ). Unlike Adam's, the second moment moves by at most
 * (1 − β₂)·g² a round, so one large pseudo-gradient cannot blow it up nor a run of small ones shrink it fast.
 * `firstMoment` and `secondMoment` are updated in place (float32, as in serverAdamStep); the new weights returned.
 */
export function serverYogiStep(
  weights: Float32Array,
  firstMoment: Float32Array,
  secondMoment: Float32Array,
  pseudoGradient: Float32Array,
  settings: ServerYogiSettings,
): Float32Array {
  checkSameLength('serverYogiStep', [weights, firstMoment, secondMoment, pseudoGradient]);
  const { learningRate, beta1, beta2, tau } = settings;
  const next = new Float32Array(weights.length);
  for (let i = 0; i < next.length; i++) {
    const g = pseudoGradient[i];
    const g2 = g * g;
    firstMoment[i] = beta1 * firstMoment[i] + (1 - beta1) * g;
    secondMoment[i] = secondMoment[i] - (1 - beta2) * g2 * Math.sign(secondMoment[i] - g2);
    next[i] = weights[i] + (learningRate * firstMoment[i]) / (Math.sqrt(secondMoment[i]) + tau);
  }
  return next;
}

/** Hyperparameters of one server-side Adagrad step (FedAdagrad): no β₂, the squares are summed. */
export interface ServerAdagradSettings {
  learningRate: number;
  beta1: number;
  tau: number;
}

/**
 * One server Adagrad step on one tensor (FedAdagrad, Algorithm 2 of Reddi et al.): m ← β₁·m + (1 − β₁)·g,
 * v ← v + g², x ← x + η·m / (√v + τ). The moments are updated in place (float32); the new weights returned.
 */
export function serverAdagradStep(
  weights: Float32Array,
  firstMoment: Float32Array,
  secondMoment: Float32Array,
  pseudoGradient: Float32Array,
  settings: ServerAdagradSettings,
): Float32Array {
  checkSameLength('serverAdagradStep', [weights, firstMoment, secondMoment, pseudoGradient]);
  const { learningRate, beta1, tau } = settings;
  const next = new Float32Array(weights.length);
  for (let i = 0; i < next.length; i++) {
    const g = pseudoGradient[i];
    firstMoment[i] = beta1 * firstMoment[i] + (1 - beta1) * g;
    secondMoment[i] = secondMoment[i] + g * g;
    next[i] = weights[i] + (learningRate * firstMoment[i]) / (Math.sqrt(secondMoment[i]) + tau);
  }
  return next;
}
