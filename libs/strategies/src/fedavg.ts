// FedAvg — Federated Averaging.
// H. B. McMahan, E. Moore, D. Ramage, S. Hampson, B. Agüera y Arcas, "Communication-Efficient Learning of Deep
// Networks from Decentralized Data", AISTATS 2017. https://arxiv.org/abs/1602.05629
//
// Each round a fraction of the clients trains locally; the next global weights are the current ones plus the
// mean of the client deltas weighted by their example counts (times a server learning rate, 1 in the paper).
// Variants with server state (FedOpt: FedAdam, FedYogi…) extend this class and override `serverUpdate`.
import type { EvaluateReport, Metrics, NamedTensor } from '@fedtl/protocol';
import { FedtlError } from '@fedtl/util';
import { WeightedDeltaAccumulator, WeightedMetricsAccumulator, applyDelta } from './aggregate';
import { sampleClients } from './sampling';
import type {
  AggregateResult,
  ClientFailure,
  ClientUpdate,
  RoundAggregator,
  RoundConfiguration,
  Strategy,
  StrategyState,
} from './strategy';
import { copyTensors, layoutOf, matchLayout } from './tensor-layout';

export interface FedAvgOptions {
  /** Fraction of the available clients that train each round, in (0, 1]. Default 1. */
  fractionFit?: number;
  /** Fraction of the available clients that evaluate each round, in [0, 1]; 0 turns evaluation off. Default 1. */
  fractionEvaluate?: number;
  /** Fewest clients to train in a round (an integer ≥ 1). Default 1. */
  minFitClients?: number;
  /** Fewest clients to evaluate in a round, when evaluation is on (an integer ≥ 0). Default 1. */
  minEvaluateClients?: number;
  /** Fewest connected clients before a round starts (an integer ≥ 1). Default 1. */
  minAvailableClients?: number;
  /** Step size applied to the averaged delta on the server, > 0. Default 1 (plain FedAvg). */
  serverLearningRate?: number;
}

function checkFraction(strategy: string, name: string, value: number, allowZero: boolean): void {
  const ok = Number.isFinite(value) && value <= 1 && (allowZero ? value >= 0 : value > 0);
  if (!ok) throw new RangeError(`${strategy}: ${name} must be in ${allowZero ? '[0, 1]' : '(0, 1]'}, got ${value}`);
}

function checkCount(strategy: string, name: string, value: number, least: number): void {
  if (!Number.isInteger(value) || value < least) {
    throw new RangeError(`${strategy}: ${name} must be an integer ≥ ${least}, got ${value}`);
  }
}

export class FedAvg implements Strategy {
  readonly name: string = 'FedAvg';
  readonly options: Readonly<Required<FedAvgOptions>>;

  constructor(options: FedAvgOptions = {}) {
    const resolved: Required<FedAvgOptions> = {
      fractionFit: options.fractionFit ?? 1,
      fractionEvaluate: options.fractionEvaluate ?? 1,
      minFitClients: options.minFitClients ?? 1,
      minEvaluateClients: options.minEvaluateClients ?? 1,
      minAvailableClients: options.minAvailableClients ?? 1,
      serverLearningRate: options.serverLearningRate ?? 1,
    };
    // Subclasses (FedAvgM, FedAdam…) share these checks; the message names the class the caller built.
    const strategy = new.target.name;
    checkFraction(strategy, 'fractionFit', resolved.fractionFit, false);
    checkFraction(strategy, 'fractionEvaluate', resolved.fractionEvaluate, true);
    checkCount(strategy, 'minFitClients', resolved.minFitClients, 1);
    checkCount(strategy, 'minEvaluateClients', resolved.minEvaluateClients, 0);
    checkCount(strategy, 'minAvailableClients', resolved.minAvailableClients, 1);
    if (!Number.isFinite(resolved.serverLearningRate) || resolved.serverLearningRate <= 0) {
      const value = resolved.serverLearningRate;
      throw new RangeError(`${strategy}: serverLearningRate must be positive and finite, got ${value}`);
    }
    this.options = Object.freeze(resolved);
  }

  initialize(initial: readonly NamedTensor[]): NamedTensor[] {
    matchLayout(initial, layoutOf(initial));
    return copyTensors(initial);
  }

  configureRound(_round: number, available: readonly string[], random: () => number): RoundConfiguration | null {
    const { fractionFit, minFitClients, minAvailableClients } = this.options;
    const clients = sampleClients(available, fractionFit, minFitClients, minAvailableClients, random);
    return clients ? { clients, config: {} } : null;
  }

  beginRound(round: number, global: readonly NamedTensor[]): RoundAggregator {
    const layout = layoutOf(global);
    matchLayout(global, layout);
    return new FedAvgRoundAggregator(round, new WeightedDeltaAccumulator(layout), (meanDelta) =>
      this.serverUpdate(round, global, meanDelta),
    );
  }

  configureEvaluation(_round: number, available: readonly string[], random: () => number): string[] {
    const { fractionEvaluate, minEvaluateClients } = this.options;
    if (fractionEvaluate === 0) return [];
    return sampleClients(available, fractionEvaluate, minEvaluateClients, 1, random) ?? [];
  }

  /**
   * Every metric weighted by the report's example count, plus `numClients`, `numExamples`, `numFailures`, and
   * `recall/<label>` pooled over all clients' per-label counts. Reports without examples carry no weight.
   */
  aggregateEvaluation(
    _round: number,
    reports: readonly EvaluateReport[],
    failures: readonly ClientFailure[] = [],
  ): Metrics | null {
    const counted = reports.filter((report) => Number.isInteger(report.numExamples) && report.numExamples > 0);
    if (counted.length === 0) return null;
    const metrics = new WeightedMetricsAccumulator();
    const perLabel = new Map<string, { support: number; correct: number }>();
    let numExamples = 0;
    for (const report of counted) {
      metrics.add(report.metrics, report.numExamples);
      numExamples += report.numExamples;
      for (const [label, counts] of Object.entries(report.perLabel)) {
        const pooled = perLabel.get(label) ?? { support: 0, correct: 0 };
        pooled.support += counts.support;
        pooled.correct += counts.correct;
        perLabel.set(label, pooled);
      }
    }
    const out: Metrics = metrics.mean();
    for (const [label, pooled] of perLabel) {
      if (pooled.support > 0) out[`recall/${label}`] = pooled.correct / pooled.support;
    }
    out.numClients = counted.length;
    out.numExamples = numExamples;
    out.numFailures = failures.length;
    return out;
  }

  /** FedAvg keeps no server state between rounds. */
  state(): StrategyState {
    return { scalars: {}, tensors: {} };
  }

  restore(state: StrategyState): void {
    const keys = [...Object.keys(state.scalars), ...Object.keys(state.tensors)];
    if (keys.length > 0) {
      throw new FedtlError(
        'FEDTL_ERR_CHECKPOINT_CORRUPT',
        `${this.name} keeps no server state, but the checkpoint holds ${keys.join(', ')}`,
        { keys },
      );
    }
  }

  /** The next global weights from the weighted mean delta of a round. */
  protected serverUpdate(_round: number, global: readonly NamedTensor[], meanDelta: NamedTensor[]): NamedTensor[] {
    return applyDelta(global, meanDelta, this.options.serverLearningRate);
  }
}

class FedAvgRoundAggregator implements RoundAggregator {
  private readonly clients = new Set<string>();
  private readonly metrics = new WeightedMetricsAccumulator();
  private numExamples = 0;
  private finished = false;

  constructor(
    readonly round: number,
    private readonly deltas: WeightedDeltaAccumulator,
    private readonly update: (meanDelta: NamedTensor[]) => NamedTensor[],
  ) {}

  get accepted(): number {
    return this.deltas.count;
  }

  add(update: ClientUpdate): void {
    if (this.finished) throw new Error(`round ${this.round}: add() after finish()`);
    if (this.clients.has(update.clientId)) {
      throw new FedtlError(
        'FEDTL_ERR_DUPLICATE_UPDATE',
        `round ${this.round}: an update from client "${update.clientId}" was already accepted`,
        { round: this.round, clientId: update.clientId },
      );
    }
    if (!Number.isInteger(update.numExamples) || update.numExamples <= 0) {
      throw new FedtlError(
        'FEDTL_ERR_BAD_EXAMPLE_COUNT',
        `round ${this.round}, client "${update.clientId}": expected a positive integer example count, ` +
          `got ${update.numExamples}`,
        { round: this.round, clientId: update.clientId },
      );
    }
    this.deltas.add(update.delta, update.numExamples);
    this.metrics.add(update.metrics, update.numExamples);
    this.numExamples += update.numExamples;
    this.clients.add(update.clientId);
  }

  /**
   * Training metrics weighted by example count, plus `numClients`, `numExamples` and `numFailures` (which win
   * over client metrics of the same name).
   */
  finish(failures: readonly ClientFailure[]): AggregateResult | null {
    if (this.finished) throw new Error(`round ${this.round}: finish() called twice`);
    this.finished = true;
    if (this.deltas.count === 0) return null;
    const weights = this.update(this.deltas.mean());
    const metrics: Metrics = {
      ...this.metrics.mean(),
      numClients: this.deltas.count,
      numExamples: this.numExamples,
      numFailures: failures.length,
    };
    return { weights, metrics };
  }
}
