// The Strategy interface, after Flower's `flwr.server.strategy.Strategy`: a strategy decides which clients
// train in a round, how their updates become the next global weights, and how evaluation reports combine.
//
// Aggregation is streaming: the coordinator opens a RoundAggregator with `beginRound`, hands it each update as
// it arrives and then drops the update, so memory stays O(model) however many clients answer. Failures are
// data: they reach `finish` next to the updates, and "nothing to aggregate" is a `null` return.
import type { EvaluateReport, Metrics, NamedTensor, TrainingConfig } from '@fedtl/protocol';
import { type ErrorCode, FedtlError } from '@fedtl/util';

/** One client's answer to a round: its delta (local − global) and how many examples it trained on. */
export interface ClientUpdate {
  clientId: string;
  delta: NamedTensor[];
  numExamples: number;
  metrics: Metrics;
}

/** A client that was selected but whose update did not count (timeout, disconnect, rejected update…). */
export interface ClientFailure {
  clientId: string;
  code: ErrorCode;
  message: string;
}

export interface RoundConfiguration {
  /** The selected client ids. */
  clients: string[];
  /** Overrides of the run's training config for this round (empty for FedAvg). */
  config: Partial<TrainingConfig>;
}

export interface AggregateResult {
  weights: NamedTensor[];
  metrics: Metrics;
}

/** Server-side state a strategy needs to resume from a checkpoint (FedAdam's moments, step counters…). */
export interface StrategyState {
  scalars: Record<string, number>;
  tensors: Record<string, NamedTensor[]>;
}

/** Accumulates one round's updates as they arrive. */
export interface RoundAggregator {
  readonly round: number;
  /** Updates accepted so far. */
  readonly accepted: number;
  /**
   * Folds an update into the aggregate. A bad update (shape, names, non-finite values, example count, a second
   * update from the same client) throws a FedtlError and leaves the aggregate unchanged, so the caller can
   * turn it into a ClientFailure and carry on.
   */
  add(update: ClientUpdate): void;
  /** The next global weights and the round's training metrics, or null when no update was accepted. */
  finish(failures: readonly ClientFailure[]): AggregateResult | null;
}

export interface Strategy {
  readonly name: string;
  /**
   * True for a strategy that must see each client's update (e.g. a coordinate-wise median): it cannot run under
   * secure aggregation, where the coordinator only learns the sum, and the coordinator refuses the pair at
   * start-up. FedAvg and the server optimisers act on the mean only (absent: false).
   */
  readonly requiresIndividualUpdates?: boolean;
  /**
   * Join features (e.g. PER_FEDAVG_FEATURE) a client must list to train this strategy's plans: the coordinator
   * refuses a client without them (FEDTL_ERR_FEATURE_UNSUPPORTED). Absent: none.
   */
  readonly requiredClientFeatures?: readonly string[];
  /** The global weights to start the run from, given the model's freshly initialised weights. */
  initialize(initial: readonly NamedTensor[]): NamedTensor[];
  /**
   * Which of the `available` clients train in `round`, drawn with `random`. Null when too few clients are
   * available for this strategy: the coordinator waits for more.
   */
  configureRound(round: number, available: readonly string[], random: () => number): RoundConfiguration | null;
  /** Opens the streaming aggregation of `round`, starting from `global` (which is not modified). */
  beginRound(round: number, global: readonly NamedTensor[]): RoundAggregator;
  /** Which of the `available` clients evaluate the global weights after `round` (may be empty). */
  configureEvaluation(round: number, available: readonly string[], random: () => number): string[];
  /** Combines the evaluation reports of `round`; null when no report carries any example. */
  aggregateEvaluation(
    round: number,
    reports: readonly EvaluateReport[],
    failures?: readonly ClientFailure[],
  ): Metrics | null;
  /** Server state for a checkpoint; `restore` takes back what `state` returned. */
  state(): StrategyState;
  restore(state: StrategyState): void;
}

/**
 * Runs a whole round's aggregation over an iterable (or async stream) of updates, one at a time. An update the
 * aggregator rejects becomes a ClientFailure with its code instead of aborting the round.
 */
export async function aggregateUpdates(
  strategy: Strategy,
  round: number,
  global: readonly NamedTensor[],
  updates: Iterable<ClientUpdate> | AsyncIterable<ClientUpdate>,
  failures: readonly ClientFailure[] = [],
): Promise<AggregateResult | null> {
  const aggregator = strategy.beginRound(round, global);
  const allFailures = failures.slice();
  for await (const update of updates) {
    try {
      aggregator.add(update);
    } catch (err) {
      if (!(err instanceof FedtlError)) throw err;
      allFailures.push({ clientId: update.clientId, code: err.code, message: err.message });
    }
  }
  return aggregator.finish(allFailures);
}
