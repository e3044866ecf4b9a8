// The vector a client contributes to a secure-aggregation round, and how the coordinator reads the sum.
//
// Weighted FedAvg (McMahan et al., AISTATS 2017) needs Σ n_u·Δ_u / Σ n_u, but under secure aggregation the
// coordinator only learns sums. So each client pre-scales its delta by its weight and sends the weight inside
// the same masked vector (the layout is fixed in proto/fedtl/v1/secagg.proto):
//   x_u = [ (w_u / W) · clip_L2(Δ_u) (every tensor, flattened, in plan order) | w_u / W | (w_u / W) · m_u,k … ]
// with w_u = min(n_u, weightCap) (the share cap the coordinator would otherwise apply itself) and W the largest
// weight among the selected clients, so every entry has |x| ≤ clip and the fixed-point sum cannot wrap. The
// coordinator decodes Σ x_u and divides the delta and metric parts by the weight part.
//
// Why the client clips: the coordinator can no longer see one update's norm, so the norm bound it would
// enforce (--max-update-norm) is applied by each honest client before masking (as in DP-FedAvg, McMahan et al.,
// ICLR 2018, where clipping must happen on the client for the same reason).
import { FedtlError } from '@fedtl/util';
import { RING_BITS } from './fixed-point';

/** The public terms a client's vector is built with (SecAggParams of the round plan). */
export interface SecAggVectorTerms {
  /** Largest |value| of any entry, and the L2 bound the delta is clipped to; > 0. */
  readonly clip: number;
  /** W: the largest aggregation weight among the selected clients; > 0. */
  readonly weightBound: number;
  /** The share cap: a client's weight is min(its examples, weightCap); > 0. */
  readonly weightCap: number;
  /** The training metrics carried in the vector, by name, in order. */
  readonly metricSlots: readonly string[];
}

/** One client's contribution before fixed-point encoding. */
export interface SecAggContribution {
  /** Δ_u per tensor, in the plan's tensor order (flattened row-major). Not modified. */
  readonly deltas: readonly Float32Array[];
  /** n_u: the examples the client trained on (≥ 1). */
  readonly numExamples: number;
  /** The client's training metrics; slots it lacks count as 0. */
  readonly metrics: Readonly<Record<string, number>>;
}

/** What the coordinator reads from the decoded sum Σ x_u. */
export interface SecAggAggregate {
  /** Σ w_u Δ_u / Σ w_u per tensor, in the plan's tensor order. */
  readonly meanDeltas: Float32Array[];
  /** Σ w_u, in examples (W · the sum of the weight entries). */
  readonly totalWeight: number;
  /** Σ w_u m_u,k / Σ w_u for each metric slot. */
  readonly metrics: Record<string, number>;
}

/** What packing changed, for the client's log. */
export interface PackedContribution {
  /** x_u as float64 values, length Σ tensor sizes + 1 + metric slots. */
  readonly values: Float64Array;
  /** The delta's L2 norm as computed, and the factor it was scaled by when over `clip`. */
  readonly norm: number;
  readonly clipFactor?: number;
  /** w_u = min(n_u, weightCap). */
  readonly weight: number;
}

/** Throws FEDTL_ERR_MALFORMED_MESSAGE naming the field unless clip, weightBound and weightCap are positive and finite. */
export function assertVectorTerms(terms: SecAggVectorTerms): void {
  for (const field of ['clip', 'weightBound', 'weightCap'] as const) {
    const value = terms[field];
    if (!Number.isFinite(value) || value <= 0) {
      throw new FedtlError('FEDTL_ERR_MALFORMED_MESSAGE', `secure aggregation: expected ${field} a positive finite number, got ${value}`);
    }
  }
}

/** The length L of the vector for tensors of `sizes` floats and `metricSlots` slots. */
export function secAggVectorLength(sizes: readonly number[], metricSlots: readonly string[]): number {
  return sizes.reduce((a, b) => a + b, 0) + 1 + metricSlots.length;
}

/**
 * x_u for one client (layout in the header). Throws FEDTL_ERR_MALFORMED_MESSAGE for bad terms and FEDTL_ERR_NON_FINITE
 * for a delta or metric that is not finite; FEDTL_ERR_BAD_EXAMPLE_COUNT for n_u < 1 or a weight above W (the
 * coordinator's W must cover every selected client's capped count).
 */
export function packContribution(contribution: SecAggContribution, terms: SecAggVectorTerms): PackedContribution {
  assertVectorTerms(terms);
  const { deltas, numExamples, metrics } = contribution;
  if (!Number.isFinite(numExamples) || numExamples < 1) {
    throw new FedtlError('FEDTL_ERR_BAD_EXAMPLE_COUNT', `secure aggregation: expected at least 1 training example, got ${numExamples}`);
  }
  const weight = Math.min(numExamples, terms.weightCap);
  if (weight > terms.weightBound * (1 + 1e-12)) {
    throw new FedtlError(
      'FEDTL_ERR_BAD_EXAMPLE_COUNT',
      `secure aggregation: expected a weight of at most the round's bound ${terms.weightBound}, got ${weight} (min of ${numExamples} examples and cap ${terms.weightCap})`,
    );
  }
  let sumSquares = 0;
  for (const delta of deltas) {
    for (let i = 0; i < delta.length; i++) {
      if (!Number.isFinite(delta[i])) throw new FedtlError('FEDTL_ERR_NON_FINITE', `secure aggregation: the delta holds ${delta[i]}`);
      sumSquares += delta[i] * delta[i];
    }
  }
  const norm = Math.sqrt(sumSquares);
  const clipFactor = norm > terms.clip ? terms.clip / norm : undefined;
  const scale = (weight / terms.weightBound) * (clipFactor ?? 1);
  const values = new Float64Array(secAggVectorLength(deltas.map((d) => d.length), terms.metricSlots));
  let offset = 0;
  for (const delta of deltas) {
    for (let i = 0; i < delta.length; i++) values[offset + i] = delta[i] * scale;
    offset += delta.length;
  }
  const share = weight / terms.weightBound;
  values[offset++] = share;
  for (const name of terms.metricSlots) {
    const metric = metrics[name] ?? 0;
    if (!Number.isFinite(metric)) throw new FedtlError('FEDTL_ERR_NON_FINITE', `secure aggregation: metric "${name}" is ${metric}`);
    values[offset++] = share * Math.max(-terms.clip, Math.min(terms.clip, metric));
  }
  return { values, norm, weight, ...(clipFactor !== undefined ? { clipFactor } : {}) };
}

/**
 * Reads Σ x_u (decoded, length L) back into the weighted mean delta and metrics. Throws
 * FEDTL_ERR_MALFORMED_MESSAGE when the length does not match the sizes, and FEDTL_ERR_BAD_EXAMPLE_COUNT when
 * the weight part is not positive (the sum holds no honest contribution).
 */
export function unpackAggregate(sum: Float64Array, sizes: readonly number[], terms: SecAggVectorTerms): SecAggAggregate {
  assertVectorTerms(terms);
  const expected = secAggVectorLength(sizes, terms.metricSlots);
  if (sum.length !== expected) {
    throw new FedtlError('FEDTL_ERR_MALFORMED_MESSAGE', `secure aggregation: expected a sum of ${expected} values, got ${sum.length}`);
  }
  const weightIndex = expected - 1 - terms.metricSlots.length;
  const shareSum = sum[weightIndex];
  if (!(shareSum > 0)) {
    throw new FedtlError('FEDTL_ERR_BAD_EXAMPLE_COUNT', `secure aggregation: expected a positive total weight in the sum, got ${shareSum}`);
  }
  const meanDeltas: Float32Array[] = [];
  let offset = 0;
  for (const size of sizes) {
    const mean = new Float32Array(size);
    for (let i = 0; i < size; i++) mean[i] = sum[offset + i] / shareSum;
    meanDeltas.push(mean);
    offset += size;
  }
  const metrics: Record<string, number> = {};
  terms.metricSlots.forEach((name, k) => (metrics[name] = sum[weightIndex + 1 + k] / shareSum));
  return { meanDeltas, totalWeight: shareSum * terms.weightBound, metrics };
}

/**
 * The most fractional bits f ≤ 24 such that `maxSummands` values of magnitude ≤ clip sum without wrapping in
 * Z_{2^32} (n · round(clip · 2^f) < 2^31, Bonawitz et al. 2017 §4's "R large enough"). Throws
 * FEDTL_ERR_BAD_CONFIG when even f = 0 does not fit (clip · n ≥ 2^31), naming both. 24 bits (step 6e-8) is
 * finer than float32 carries for values near 1, so more would only shrink the headroom.
 */
export function chooseFractionalBits(maxSummands: number, clip: number): number {
  for (let f = 24; f >= 0; f--) {
    if (maxSummands * Math.round(clip * 2 ** f) < 2 ** (RING_BITS - 1)) return f;
  }
  throw new FedtlError(
    'FEDTL_ERR_BAD_CONFIG',
    `secure aggregation: expected ${maxSummands} clients × clip ${clip} to fit the ${RING_BITS}-bit ring (< 2^${RING_BITS - 1}); lower --max-update-norm or the number of clients per round`,
  );
}
