// Collects one round's updates: validates each as it arrives, feeds accepted ones straight into the
// strategy's streaming aggregator (so memory stays O(model)), records failures, and settles when every
// selected client has answered or the deadline passes. Bounds come before trust: an update's norm is bounded
// and its weight capped here, so the aggregator only ever sees what the operator's limits let through.
import { FedtlError, type ErrorCode } from '@fedtl/util';
import { validateTensors, type NamedTensor, type Update } from '@fedtl/protocol';
import type { ClientFailure, RoundAggregator } from '@fedtl/strategies';
import { boundDelta, type NormBound } from './norm-bound';
import { checkUpdateMetrics } from './report-checks';
import { cappedWeight, type WeightCaps } from './share-cap';

export interface TensorSpec {
  name: string;
  shape: number[];
  dtype: NamedTensor['dtype'];
}

/** What the bounds changed in an accepted update, for the round record. */
export interface BoundedUpdate {
  /** The delta's L2 norm as it came, and the factor it was clipped by (absent when within the bound). */
  norm: number;
  clipFactor?: number;
  /** The example count the update claimed, and the weight it carried after the round's share cap. */
  numExamples: number;
  weight: number;
}

export interface RoundBounds {
  norm: NormBound;
  caps: WeightCaps;
}

export interface RoundOutcome {
  accepted: string[];
  failures: ClientFailure[];
  /** Accepted updates the bounds changed (clipped or weight-capped), by client. */
  bounded: Record<string, BoundedUpdate>;
}

export class RoundCollector {
  private readonly accepted = new Set<string>();
  private readonly failures = new Map<string, ClientFailure>();
  private readonly bounded: Record<string, BoundedUpdate> = {};
  private readonly settled: Promise<RoundOutcome>;
  private settle!: () => void;
  private timer?: NodeJS.Timeout;
  private closed = false;

  constructor(
    readonly runId: string,
    readonly round: number,
    readonly selected: ReadonlySet<string>,
    private readonly expected: readonly TensorSpec[],
    private readonly aggregator: RoundAggregator,
    /** Largest example count each client may claim: what it declared at Join. */
    private readonly maxExamples: (clientId: string) => number,
    deadlineMs: number,
    private readonly bounds: RoundBounds,
  ) {
    this.settled = new Promise<void>((resolve) => (this.settle = resolve)).then(() => this.outcome());
    this.timer = setTimeout(() => this.expire(), deadlineMs);
    this.timer.unref?.();
    if (selected.size === 0) this.close();
  }

  /** Resolves once every selected client answered or the deadline passed. */
  done(): Promise<RoundOutcome> {
    return this.settled;
  }

  /**
   * Validates, bounds and aggregates an update, and returns it as aggregated (clipped delta, capped weight as
   * numExamples); throws a FedtlError (for the sender's ack) when it is refused. A refused update leaves its
   * sender out of this round, except a stale one (an earlier round's, or another run's), which is only
   * answered: the sender may still deliver this round's update.
   */
  accept(senderId: string, update: Update): Update {
    if (update.round === this.round && this.accepted.has(senderId)) {
      throw new FedtlError('FEDTL_ERR_DUPLICATE_UPDATE', `an update from "${senderId}" for round ${this.round} was already accepted`);
    }
    if (this.closed) {
      throw new FedtlError('FEDTL_ERR_WRONG_ROUND', `expected no update (round ${this.round} is closed), got one for round ${update.round}`);
    }
    if (update.runId !== this.runId) {
      throw new FedtlError('FEDTL_ERR_WRONG_RUN', `expected an update for run ${this.runId}, got run ${update.runId}`);
    }
    if (update.round < this.round) {
      throw new FedtlError('FEDTL_ERR_WRONG_ROUND', `expected an update for round ${this.round}, got a late one for round ${update.round}`);
    }
    this.checkSender(senderId);
    let aggregated: Update;
    try {
      aggregated = this.bound(senderId, update);
      this.aggregator.add({ clientId: senderId, delta: aggregated.delta, numExamples: aggregated.numExamples, metrics: aggregated.metrics });
    } catch (err) {
      const error = err instanceof FedtlError ? err : new FedtlError('FEDTL_ERR_INTERNAL', String(err));
      this.fail(senderId, error.code, error.message);
      delete this.bounded[senderId];
      throw error;
    }
    this.accepted.add(senderId);
    this.maybeFinish();
    return aggregated;
  }

  /** Checks the update's content, then applies the norm bound and the share cap. */
  private bound(senderId: string, update: Update): Update {
    this.checkContent(senderId, update);
    checkUpdateMetrics(update.metrics);
    const { delta, norm, clipFactor } = boundDelta(update.delta, this.bounds.norm);
    const weight = cappedWeight(update.numExamples, this.bounds.caps);
    if (clipFactor !== undefined || weight !== update.numExamples) {
      this.bounded[senderId] = { norm, ...(clipFactor !== undefined ? { clipFactor } : {}), numExamples: update.numExamples, weight };
    }
    return { ...update, delta, numExamples: weight };
  }

  /** Selected and not answered yet (neither accepted nor failed), in a round still open. */
  isPending(clientId: string): boolean {
    return !this.closed && this.selected.has(clientId) && !this.accepted.has(clientId) && !this.failures.has(clientId);
  }

  /** Leaves a selected client out of this round (bad message, disconnect, refused plan). */
  fail(clientId: string, code: ErrorCode, message: string): void {
    if (this.closed || !this.selected.has(clientId) || this.accepted.has(clientId) || this.failures.has(clientId)) return;
    this.failures.set(clientId, { clientId, code, message });
    this.maybeFinish();
  }

  private checkSender(senderId: string): void {
    if (!this.selected.has(senderId)) {
      throw new FedtlError('FEDTL_ERR_NOT_SELECTED', `client "${senderId}" was not selected for round ${this.round}`);
    }
    const earlier = this.accepted.has(senderId) ? 'accepted' : this.failures.get(senderId)?.code;
    if (earlier) {
      throw new FedtlError('FEDTL_ERR_DUPLICATE_UPDATE', `an update from "${senderId}" for round ${this.round} was already answered (${earlier})`);
    }
  }

  private checkContent(senderId: string, update: Update): void {
    if (update.round !== this.round) {
      throw new FedtlError('FEDTL_ERR_WRONG_ROUND', `expected an update for round ${this.round}, got round ${update.round}`);
    }
    if (update.clientId !== senderId) {
      throw new FedtlError('FEDTL_ERR_UNAUTHORIZED', `update claims client "${update.clientId}" but was sent by "${senderId}"`);
    }
    const max = this.maxExamples(senderId);
    if (!Number.isInteger(update.numExamples) || update.numExamples < 1 || update.numExamples > max) {
      throw new FedtlError('FEDTL_ERR_BAD_EXAMPLE_COUNT', `expected an integer example count in [1, ${max}] (declared at join), got ${update.numExamples}`);
    }
    validateTensors(this.expected, update.delta);
  }

  private maybeFinish(): void {
    if (this.accepted.size + this.failures.size >= this.selected.size) this.close();
  }

  private expire(): void {
    for (const clientId of this.selected) {
      this.fail(clientId, 'FEDTL_ERR_ROUND_TIMEOUT', `no update from "${clientId}" before the round ${this.round} deadline`);
    }
    this.close();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    this.settle();
  }

  private outcome(): RoundOutcome {
    return { accepted: [...this.accepted].sort(), failures: [...this.failures.values()], bounded: { ...this.bounded } };
  }
}
