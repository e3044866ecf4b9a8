// Per-FedAvg — federated meta-learning of an initialisation that adapts to each client in a few steps.
// A. Fallah, A. Mokhtari, A. Ozdaglar, "Personalized Federated Learning with Theoretical Guarantees: A
// Model-Agnostic Meta-Learning Approach", NeurIPS 2020. https://arxiv.org/abs/2002.07948
//
// The objective is MAML's (Finn et al., ICML 2017) across clients: find w such that one SGD step of size α on a
// client's own data, w − α∇f_i(w), does well on that client. The server is FedAvg's (sampling, example-weighted
// mean of the deltas); the change is on the client, carried in every round plan as
// `TrainingConfig.metaInnerLearningRate` (round.proto field 17): each local step adapts a copy of the weights by
// one SGD step of size α on one batch, then moves the weights along the gradient at the adapted point on the next
// batch (the first-order variant, Per-FedAvg (FO), which drops the Hessian term; see trainLocally). A new client
// then adapts the learned w with a few SGD steps of size α on its labelled examples (`adaptLocally`, the client's
// `--adapt-only`), sending nothing.
import { PER_FEDAVG_FEATURE } from '@fedtl/protocol';
import { FedAvg, type FedAvgOptions } from './fedavg';
import type { RoundConfiguration } from './strategy';

export interface PerFedAvgOptions extends FedAvgOptions {
  /** α > 0, the inner (adaptation) SGD step size sent to the clients each round. Default PER_FEDAVG_DEFAULTS. */
  metaInnerLearningRate?: number;
}

/**
 * The default α, chosen on validation slices of the Amazon reviews' training data for the default adapter and
 * linear head on use-lite features (`npm run bench -- few-shot --validate`, α ∈ {0.2, 0.5, 1}, each new domain
 * adapting with step sizes 0.1–1; docs/results/few-shot/README.md): a full-batch SGD step of this size moves the
 * head enough to change predictions, where the paper's 0.001–0.01 (CNNs on images) would leave them unchanged.
 */
export const PER_FEDAVG_DEFAULTS = { metaInnerLearningRate: 0.2 } as const;

export class PerFedAvg extends FedAvg {
  override readonly name: string = 'PerFedAvg';
  readonly requiredClientFeatures: readonly string[] = [PER_FEDAVG_FEATURE];
  readonly metaInnerLearningRate: number;

  constructor(options: PerFedAvgOptions = {}) {
    const { metaInnerLearningRate = PER_FEDAVG_DEFAULTS.metaInnerLearningRate, ...fedAvg } = options;
    super(fedAvg);
    if (!Number.isFinite(metaInnerLearningRate) || metaInnerLearningRate <= 0) {
      throw new RangeError(`PerFedAvg: metaInnerLearningRate must be finite and > 0, got ${metaInnerLearningRate}`);
    }
    this.metaInnerLearningRate = metaInnerLearningRate;
  }

  override configureRound(round: number, available: readonly string[], random: () => number): RoundConfiguration | null {
    const plan = super.configureRound(round, available, random);
    return plan ? { ...plan, config: { ...plan.config, metaInnerLearningRate: this.metaInnerLearningRate } } : null;
  }
}
