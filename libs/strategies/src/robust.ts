// The shared machinery of robust aggregation (Median, TrimmedMean, Krum/MultiKrum): strategies whose aggregate
// is not a function of the mean, so they must see each client's update.
//
// Unlike FedAvg's streaming aggregator, a robust round keeps every accepted update until `finish`: memory is
// O(n × P) for the n updates accepted in the round (at most the round's sampled clients, each accepted at most
// once) and P the model's parameter count, as float32 — plus O(n) scratch per coordinate (Median, TrimmedMean)
// or an n × n distance matrix (Krum). Nothing is kept across rounds, and an update that is refused (bad shape,
// non-finite value, duplicate) is never buffered. They set `requiresIndividualUpdates`, so the coordinator
// refuses them together with secure aggregation at start-up.
//
// The robust aggregate Δ̂ of the round's deltas is applied as x ← x + η·Δ̂ with the server learning rate η
// (default 1, as in the papers). Training metrics are still example-weighted over every accepted update; the
// round's metrics add `robust/excluded` where the rule drops whole updates (Krum: those not selected).
import type { Metrics, NamedTensor } from '@fedtl/protocol';
import { FedtlError } from '@fedtl/util';
import { WeightedMetricsAccumulator, applyDelta } from './aggregate';
import { FedAvg, type FedAvgOptions } from './fedavg';
import type { AggregateResult, ClientFailure, ClientUpdate, RoundAggregator } from './strategy';
import { elementCount, layoutOf, matchLayout, type TensorLayout } from './tensor-layout';

/** What a robust rule makes of a round's flat deltas (each in the global layout's order, concatenated). */
export interface RobustCombination {
  delta: Float32Array;
  /** Extra round metrics (e.g. how many updates the rule excluded). */
  metrics?: Metrics;
}

export abstract class RobustStrategy extends FedAvg {
  readonly requiresIndividualUpdates: boolean = true;

  /** The fewest accepted updates a round needs; fewer is FEDTL_ERR_QUORUM_NOT_MET at `finish`. */
  abstract get fewestUpdates(): number;

  /** Why the rule needs `fewestUpdates` (for the error message), e.g. "n > 2f + 2 with f = 1". */
  protected abstract get fewestReason(): string;

  /** The robust aggregate of `deltas` (n ≥ fewestUpdates flat arrays of one length), in arrival order with their ids. */
  protected abstract combine(deltas: readonly Float32Array[], clientIds: readonly string[]): RobustCombination;

  /**
   * `minFitClients` defaults to `fewestUpdates` for a robust strategy; an explicit smaller value is a RangeError,
   * so a round is never planned that the rule would have to refuse. Call at the end of a subclass's constructor.
   */
  protected checkMinFitClients(explicit: number | undefined): void {
    if (explicit !== undefined && explicit < this.fewestUpdates) {
      // Called from a constructor, before a subclass's own `name` is set: the class the caller built names it.
      throw new RangeError(`${this.constructor.name}: minFitClients must be at least ${this.fewestUpdates} (${this.fewestReason}), got ${explicit}`);
    }
  }

  /** `options` with minFitClients (and minAvailableClients) defaulted to `fewest`. */
  protected static withFewest(options: FedAvgOptions, fewest: number): FedAvgOptions {
    const minFitClients = options.minFitClients ?? fewest;
    return { ...options, minFitClients, minAvailableClients: options.minAvailableClients ?? minFitClients };
  }

  override beginRound(round: number, global: readonly NamedTensor[]): RoundAggregator {
    const layout = layoutOf(global);
    matchLayout(global, layout);
    return new BufferedRoundAggregator(round, layout, this.name, (deltas, ids) => {
      if (deltas.length < this.fewestUpdates) {
        throw new FedtlError(
          'FEDTL_ERR_QUORUM_NOT_MET',
          `round ${round}: ${this.name} needs ${this.fewestReason}: expected at least ${this.fewestUpdates} updates, got ${deltas.length}`,
          { round, expected: this.fewestUpdates, actual: deltas.length },
        );
      }
      const combined = this.combine(deltas, ids);
      return { weights: applyDelta(global, unflatten(combined.delta, layout), this.options.serverLearningRate), metrics: combined.metrics ?? {} };
    });
  }
}

function unflatten(flat: Float32Array, layout: readonly TensorLayout[]): NamedTensor[] {
  let offset = 0;
  return layout.map((entry) => {
    const size = elementCount(entry.shape);
    const data = flat.slice(offset, offset + size);
    offset += size;
    return { name: entry.name, shape: entry.shape.slice(), dtype: 'float32', data };
  });
}

/** Keeps the round's accepted updates, flattened, until `finish` hands them to the rule. */
class BufferedRoundAggregator implements RoundAggregator {
  private readonly ids: string[] = [];
  private readonly deltas: Float32Array[] = [];
  private readonly metrics = new WeightedMetricsAccumulator();
  private readonly size: number;
  private numExamples = 0;
  private finished = false;

  constructor(
    readonly round: number,
    private readonly layout: readonly TensorLayout[],
    private readonly strategy: string,
    private readonly aggregate: (deltas: Float32Array[], ids: string[]) => { weights: NamedTensor[]; metrics: Metrics },
  ) {
    this.size = layout.reduce((sum, entry) => sum + elementCount(entry.shape), 0);
  }

  get accepted(): number {
    return this.deltas.length;
  }

  add(update: ClientUpdate): void {
    if (this.finished) throw new Error(`round ${this.round}: add() after finish()`);
    if (this.ids.includes(update.clientId)) {
      throw new FedtlError('FEDTL_ERR_DUPLICATE_UPDATE', `round ${this.round}: an update from client "${update.clientId}" was already accepted`, {
        round: this.round,
        clientId: update.clientId,
      });
    }
    if (!Number.isInteger(update.numExamples) || update.numExamples <= 0) {
      throw new FedtlError(
        'FEDTL_ERR_BAD_EXAMPLE_COUNT',
        `round ${this.round}, client "${update.clientId}": expected a positive integer example count, got ${update.numExamples}`,
        { round: this.round, clientId: update.clientId },
      );
    }
    const ordered = matchLayout(update.delta, this.layout);
    const flat = new Float32Array(this.size);
    let offset = 0;
    for (const tensor of ordered) {
      flat.set(tensor.data, offset);
      offset += tensor.data.length;
    }
    this.deltas.push(flat);
    this.ids.push(update.clientId);
    this.metrics.add(update.metrics, update.numExamples);
    this.numExamples += update.numExamples;
  }

  /** Null when no update was accepted; a FedtlError (FEDTL_ERR_QUORUM_NOT_MET) when too few for the rule. */
  finish(failures: readonly ClientFailure[]): AggregateResult | null {
    if (this.finished) throw new Error(`round ${this.round}: finish() called twice (${this.strategy})`);
    this.finished = true;
    if (this.deltas.length === 0) return null;
    const deltas = this.deltas.splice(0);
    const { weights, metrics } = this.aggregate(deltas, this.ids);
    return {
      weights,
      metrics: { ...this.metrics.mean(), ...metrics, numClients: deltas.length, numExamples: this.numExamples, numFailures: failures.length },
    };
  }
}
