// FedYogi — federated averaging with Yogi on the server.
// S. J. Reddi, Z. Charles, M. Zaheer, Z. Garrett, K. Rush, J. Konečný, S. Kumar, H. B. McMahan, "Adaptive
// Federated Optimization", ICLR 2021. https://arxiv.org/abs/2003.00295
//
// Algorithm 2 of the paper with Yogi as the server optimiser: m ← β₁·m + (1 − β₁)·Δ,
// v ← v − (1 − β₂)·Δ²·sign(v − Δ²), x ← x + η·m / (√v + τ), where Δ is the round's example-weighted mean delta.
// Adam's v forgets its past geometrically and jumps with one large Δ; Yogi's moves additively, by at most
// (1 − β₂)·Δ² a round, which the paper finds more stable when clients' data differ. The state (m and v, one
// float32 tensor per global tensor) is checkpointed like FedAdam's. As in FedAdam here (and Flower), v starts at
// zero rather than the paper's v₋₁ ≥ τ², and there is no bias correction. Defaults are Flower's.
import { serverYogiStep, type ServerYogiSettings } from './aggregate';
import type { FedAvgOptions } from './fedavg';
import { FedOpt } from './fedopt';

export interface FedYogiOptions extends FedAvgOptions {
  /** Decay of the first moment (momentum), in [0, 1). Default 0.9. */
  beta1?: number;
  /** Rate of the second moment's additive update, in [0, 1). Default 0.99. */
  beta2?: number;
  /** Adaptivity τ added to √v, > 0. Default 1e-3. The server learning rate η defaults to 0.01. */
  tau?: number;
}

/** The documented defaults of FedYogi's server optimiser (Flower's). */
export const FEDYOGI_DEFAULTS = { serverLearningRate: 0.01, beta1: 0.9, beta2: 0.99, tau: 1e-3 } as const;

export class FedYogi extends FedOpt {
  override readonly name: string = 'FedYogi';
  readonly beta1: number;
  readonly beta2: number;
  readonly tau: number;
  protected readonly stateNames = ['firstMoment', 'secondMoment'] as const;

  constructor(options: FedYogiOptions = {}) {
    super({ ...options, serverLearningRate: options.serverLearningRate ?? FEDYOGI_DEFAULTS.serverLearningRate });
    this.beta1 = options.beta1 ?? FEDYOGI_DEFAULTS.beta1;
    this.beta2 = options.beta2 ?? FEDYOGI_DEFAULTS.beta2;
    this.tau = options.tau ?? FEDYOGI_DEFAULTS.tau;
    this.checkDecayRate('beta1', this.beta1);
    this.checkDecayRate('beta2', this.beta2);
    if (!(Number.isFinite(this.tau) && this.tau > 0)) throw new RangeError(`${this.name}: tau must be positive and finite, got ${this.tau}`);
  }

  protected step(weights: Float32Array, pseudoGradient: Float32Array, [firstMoment, secondMoment]: Float32Array[]): Float32Array {
    const settings: ServerYogiSettings = { learningRate: this.options.serverLearningRate, beta1: this.beta1, beta2: this.beta2, tau: this.tau };
    return serverYogiStep(weights, firstMoment, secondMoment, pseudoGradient, settings);
  }
}
