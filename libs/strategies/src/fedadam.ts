// FedAdam — federated averaging with Adam on the server.
// S. J. Reddi, Z. Charles, M. Zaheer, Z. Garrett, K. Rush, J. Konečný, S. Kumar, H. B. McMahan, "Adaptive
// Federated Optimization", ICLR 2021. https://arxiv.org/abs/2003.00295
//
// Algorithm 2 of the paper with Adam as the server optimiser: m ← β₁·m + (1 − β₁)·Δ, v ← β₂·v + (1 − β₂)·Δ²,
// x ← x + η·m / (√v + τ), where Δ is the round's mean delta. Each weight gets its own step size, so weights the
// clients keep pulling different ways (large v, small m) move little. τ sets the degree of adaptivity: a small τ
// makes every weight move about η a round whatever its gradient's scale. As in the paper (and unlike Flower's
// FedAdam, which scales η by Adam's bias correction) there is no bias correction. Defaults are Flower's.
import { serverAdamStep, type ServerAdamSettings } from './aggregate';
import type { FedAvgOptions } from './fedavg';
import { FedOpt } from './fedopt';

export interface FedAdamOptions extends FedAvgOptions {
  /** Decay of the first moment (momentum), in [0, 1). Default 0.9. */
  beta1?: number;
  /** Decay of the second moment, in [0, 1). Default 0.99. */
  beta2?: number;
  /** Adaptivity τ added to √v, > 0. Default 1e-9. The server learning rate η defaults to 0.1. */
  tau?: number;
}

/** The documented defaults of FedAdam's server optimiser (Flower's). */
export const FEDADAM_DEFAULTS = { serverLearningRate: 0.1, beta1: 0.9, beta2: 0.99, tau: 1e-9 } as const;

export class FedAdam extends FedOpt {
  override readonly name: string = 'FedAdam';
  readonly beta1: number;
  readonly beta2: number;
  readonly tau: number;
  protected readonly stateNames = ['firstMoment', 'secondMoment'] as const;

  constructor(options: FedAdamOptions = {}) {
    super({ ...options, serverLearningRate: options.serverLearningRate ?? FEDADAM_DEFAULTS.serverLearningRate });
    this.beta1 = options.beta1 ?? FEDADAM_DEFAULTS.beta1;
    this.beta2 = options.beta2 ?? FEDADAM_DEFAULTS.beta2;
    this.tau = options.tau ?? FEDADAM_DEFAULTS.tau;
    this.checkDecayRate('beta1', this.beta1);
    this.checkDecayRate('beta2', this.beta2);
    if (!(Number.isFinite(this.tau) && this.tau > 0)) throw new RangeError(`${this.name}: tau must be positive and finite, got ${this.tau}`);
  }

  protected step(weights: Float32Array, pseudoGradient: Float32Array, [firstMoment, secondMoment]: Float32Array[]): Float32Array {
    const settings: ServerAdamSettings = { learningRate: this.options.serverLearningRate, beta1: this.beta1, beta2: this.beta2, tau: this.tau };
    return serverAdamStep(weights, firstMoment, secondMoment, pseudoGradient, settings);
  }
}
