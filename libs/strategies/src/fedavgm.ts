// FedAvgM — federated averaging with server momentum.
// T.-M. H. Hsu, H. Qi, M. Brown, "Measuring the Effects of Non-Identical Data Distribution for Federated Visual
// Classification", 2019. https://arxiv.org/abs/1909.06335
//
// The server keeps a momentum of the rounds' mean deltas, m ← β·m + Δ, and moves the global weights by η·m
// (the FedOpt form with SGD + heavy-ball momentum on the server). With clients on different data, consecutive
// mean deltas point different ways; momentum keeps the part they share and damps the part that flips from round
// to round. β = 0 with η = 1 is FedAvg. The step size in steady state is about η / (1 − β) times a FedAvg step,
// so a large β usually wants a smaller η.
import { serverMomentumStep } from './aggregate';
import type { FedAvgOptions } from './fedavg';
import { FedOpt } from './fedopt';

export interface FedAvgMOptions extends FedAvgOptions {
  /** Server momentum β, in [0, 1). Default 0.9. The server learning rate η (`serverLearningRate`) defaults to 1. */
  serverMomentum?: number;
}

/** The documented defaults of FedAvgM's server optimiser. */
export const FEDAVGM_DEFAULTS = { serverLearningRate: 1, serverMomentum: 0.9 } as const;

export class FedAvgM extends FedOpt {
  override readonly name: string = 'FedAvgM';
  readonly serverMomentum: number;
  protected readonly stateNames = ['momentum'] as const;

  constructor(options: FedAvgMOptions = {}) {
    super({ ...options, serverLearningRate: options.serverLearningRate ?? FEDAVGM_DEFAULTS.serverLearningRate });
    this.serverMomentum = options.serverMomentum ?? FEDAVGM_DEFAULTS.serverMomentum;
    this.checkDecayRate('serverMomentum', this.serverMomentum);
  }

  protected step(weights: Float32Array, pseudoGradient: Float32Array, [momentum]: Float32Array[]): Float32Array {
    return serverMomentumStep(weights, momentum, pseudoGradient, this.serverMomentum, this.options.serverLearningRate);
  }
}
