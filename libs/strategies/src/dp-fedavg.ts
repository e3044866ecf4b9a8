// Client-level differential privacy around any mean-based strategy: DP-FedAvg (McMahan, Ramage, Talwar, Zhang,
// "Learning Differentially Private Recurrent Language Models", ICLR 2018, Algorithm 1 with the fixed-denominator
// estimator f̃_f). Each update is clipped to L2 norm S and weighs 1 (a client's example count would change the
// sensitivity); the clipped deltas are summed, Gaussian noise N(0, z²S²) is added to every coordinate, and the sum
// is divided by the expected number of clients q·N, a constant of the round, never the number that answered. The
// strategy's own server step (FedAvg, FedAvgM, FedAdam…) then acts on that noisy mean: post-processing, which costs
// no privacy. Under secure aggregation the clients add the noise themselves and the coordinator adds the sum it
// unmasked with `addSum` and no noise of its own (PROTOCOL §7.1).
import type { Metrics, NamedTensor } from '@fedtl/protocol';
import { addGaussianNoiseInPlace, clipInPlace, cryptoRandomness, type GaussianSource } from '@fedtl/privacy';
import { FedtlError } from '@fedtl/util';
import { WeightedDeltaAccumulator, WeightedMetricsAccumulator } from './aggregate';
import type { AggregateResult, ClientFailure, ClientUpdate, RoundAggregator } from './strategy';

/** The round's DP-FedAvg terms. */
export interface DpFedAvgTerms {
  /** S > 0: every update is scaled to L2 norm at most S. */
  clipNorm: number;
  /**
   * The standard deviation of the noise this aggregator adds to every coordinate of the sum: z·S in the clear, 0
   * under secure aggregation (the clients added theirs).
   */
  noiseStddev: number;
  /** q·N > 0: the denominator of the mean, fixed before the round. */
  expectedClients: number;
  /** Default node:crypto. Tests only may pass their own. */
  randomness?: GaussianSource;
}

/**
 * A RoundAggregator that clips, sums with weight 1, adds noise and hands the strategy's aggregator (`inner`) one
 * update: the noisy fixed-denominator mean. Metrics are averaged unweighted (and are not DP-protected).
 * @throws RangeError from the constructor for a clip norm or denominator that is not positive and finite, or a
 *   negative noise.
 */
export class DpFedAvgAggregator implements RoundAggregator {
  private readonly sum = new WeightedDeltaAccumulator();
  private readonly metrics = new WeightedMetricsAccumulator();
  private readonly clients = new Set<string>();
  private summed = 0;
  private finished = false;

  constructor(
    private readonly inner: RoundAggregator,
    private readonly terms: DpFedAvgTerms,
  ) {
    if (!(terms.clipNorm > 0) || !Number.isFinite(terms.clipNorm)) throw new RangeError(`DpFedAvgAggregator: expected a clip norm > 0, got ${terms.clipNorm}`);
    if (!(terms.expectedClients > 0) || !Number.isFinite(terms.expectedClients)) throw new RangeError(`DpFedAvgAggregator: expected q·N > 0, got ${terms.expectedClients}`);
    if (!(terms.noiseStddev >= 0) || !Number.isFinite(terms.noiseStddev)) throw new RangeError(`DpFedAvgAggregator: expected a noise ≥ 0, got ${terms.noiseStddev}`);
  }

  get round(): number {
    return this.inner.round;
  }

  /** Clients in the sum. */
  get accepted(): number {
    return this.summed;
  }

  /** Clips a copy of the update's delta to S and adds it to the sum with weight 1. */
  add(update: ClientUpdate): void {
    if (this.finished) throw new Error(`round ${this.round}: add() after finish()`);
    if (this.clients.has(update.clientId)) {
      throw new FedtlError('FEDTL_ERR_DUPLICATE_UPDATE', `round ${this.round}: an update from client "${update.clientId}" was already accepted`);
    }
    const delta = update.delta.map((t) => ({ ...t, data: Float32Array.from(t.data) }));
    clipInPlace(delta.map((t) => t.data as Float32Array), this.terms.clipNorm);
    this.sum.add(delta, 1);
    this.metrics.add(update.metrics, 1);
    this.clients.add(update.clientId);
    this.summed += 1;
  }

  /**
   * Adds the sum of `clients` updates that are already clipped (and noised) by their senders: secure
   * aggregation's unmasked sum.
   */
  addSum(deltaSum: readonly NamedTensor[], clients: number, metrics: Metrics): void {
    if (this.finished) throw new Error(`round ${this.round}: addSum() after finish()`);
    if (!Number.isInteger(clients) || clients < 1) throw new RangeError(`DpFedAvgAggregator.addSum: expected clients ≥ 1, got ${clients}`);
    this.sum.add(deltaSum, 1);
    this.metrics.add(metrics, clients);
    this.summed += clients;
  }

  /** Noise, the fixed denominator, then the strategy's server step; null when nothing was summed. */
  finish(failures: readonly ClientFailure[]): AggregateResult | null {
    if (this.finished) throw new Error(`round ${this.round}: finish() called twice`);
    this.finished = true;
    if (this.summed === 0) return this.inner.finish(failures);
    // The accumulator's mean over weight-1 adds times their count is the plain sum.
    const total = this.sum.totalWeight;
    const noisyMean = this.sum.mean();
    for (const tensor of noisyMean) {
      const data = tensor.data as Float32Array;
      for (let i = 0; i < data.length; i++) data[i] *= total;
    }
    addGaussianNoiseInPlace(noisyMean.map((t) => t.data as Float32Array), this.terms.noiseStddev, this.terms.randomness ?? cryptoRandomness());
    for (const tensor of noisyMean) {
      const data = tensor.data as Float32Array;
      for (let i = 0; i < data.length; i++) data[i] /= this.terms.expectedClients;
    }
    this.inner.add({ clientId: `dp-fedavg sum of ${this.summed}`, delta: noisyMean, numExamples: 1, metrics: this.metrics.mean() });
    const result = this.inner.finish(failures);
    if (result) result.metrics.numClients = this.summed;
    return result;
  }
}
