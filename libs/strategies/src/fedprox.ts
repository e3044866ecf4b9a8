// FedProx — federated optimisation for heterogeneous networks.
// T. Li, A. K. Sahu, M. Zaheer, M. Sanjabi, A. Talwalkar, V. Smith, "Federated Optimization in Heterogeneous
// Networks", MLSys 2020. https://arxiv.org/abs/1812.06127
//
// The server is FedAvg's (sampling, example-weighted mean of the deltas); the change is on the client: each
// client minimises its local loss plus the proximal term μ/2·‖w − w_global‖², where w_global is the round's
// global weights, so clients on different data drift less far from the global model in their local epochs.
// This strategy carries μ to the clients in every round plan (`TrainingConfig.proximalMu`, round.proto field 16).
// μ = 0 is FedAvg. The paper picks μ per data set from {0.001, 0.01, 0.1, 1}.
import { FEDPROX_FEATURE } from '@fedtl/protocol';
import { FedAvg, type FedAvgOptions } from './fedavg';
import type { RoundConfiguration } from './strategy';

export interface FedProxOptions extends FedAvgOptions {
  /** The proximal coefficient μ ≥ 0 sent to the clients each round. Default FEDPROX_DEFAULTS.proximalMu. */
  proximalMu?: number;
}

/**
 * The default μ: Flower's FedProx has none (`proximal_mu` is a required argument); 0.01 is the middle of the
 * paper's candidate set, a mild pull that leaves a few local epochs of progress intact.
 */
export const FEDPROX_DEFAULTS = { proximalMu: 0.01 } as const;

export class FedProx extends FedAvg {
  override readonly name: string = 'FedProx';
  readonly proximalMu: number;
  readonly requiredClientFeatures: readonly string[];

  constructor(options: FedProxOptions = {}) {
    const { proximalMu = FEDPROX_DEFAULTS.proximalMu, ...fedAvg } = options;
    super(fedAvg);
    if (!Number.isFinite(proximalMu) || proximalMu < 0) {
      throw new RangeError(`FedProx: proximalMu must be finite and ≥ 0, got ${proximalMu}`);
    }
    this.proximalMu = proximalMu;
    // μ = 0 sends no term: any client trains it right.
    this.requiredClientFeatures = proximalMu > 0 ? [FEDPROX_FEATURE] : [];
  }

  override configureRound(round: number, available: readonly string[], random: () => number): RoundConfiguration | null {
    const plan = super.configureRound(round, available, random);
    return plan ? { ...plan, config: { ...plan.config, proximalMu: this.proximalMu } } : null;
  }
}
