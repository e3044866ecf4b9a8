// FedAdagrad — federated averaging with Adagrad on the server.
// S. J. Reddi, Z. Charles, M. Zaheer, Z. Garrett, K. Rush, J. Konečný, S. Kumar, H. B. McMahan, "Adaptive
// Federated Optimization", ICLR 2021. https://arxiv.org/abs/2003.00295
//
// Algorithm 2 of the paper with Adagrad as the server optimiser: m ← β₁·m + (1 − β₁)·Δ, v ← v + Δ²,
// x ← x + η·m / (√v + τ), where Δ is the round's example-weighted mean delta. v only grows, so every weight's step
// size shrinks as its pseudo-gradients accumulate; the paper's FedAdagrad has no β₂. The state (m and v, one
// float32 tensor per global tensor) is checkpointed like FedAdam's; v starts at zero (as in Flower) rather than
// the paper's v₋₁ ≥ τ². Defaults: η 0.1 and τ 1e-9 (Flower's), β₁ 0 (no momentum: m is the round's Δ).
import { serverAdagradStep, type ServerAdagradSettings } from './aggregate';
import type { FedAvgOptions } from './fedavg';
import { FedOpt } from './fedopt';

export interface FedAdagradOptions extends FedAvgOptions {
  /** Decay of the first moment (momentum), in [0, 1). Default 0. */
  beta1?: number;
  /** Adaptivity τ added to √v, > 0. Default 1e-9. The server learning rate η defaults to 0.1. */
  tau?: number;
}

/** The documented defaults of FedAdagrad's server optimiser. */
export const FEDADAGRAD_DEFAULTS = { serverLearningRate: 0.1, beta1: 0, tau: 1e-9 } as const;

export class FedAdagrad extends FedOpt {
  override readonly name: string = 'FedAdagrad';
  readonly beta1: number;
  readonly tau: number;
  protected readonly stateNames = ['firstMoment', 'secondMoment'] as const;

  constructor(options: FedAdagradOptions = {}) {
    super({ ...options, serverLearningRate: options.serverLearningRate ?? FEDADAGRAD_DEFAULTS.serverLearningRate });
    this.beta1 = options.beta1 ?? FEDADAGRAD_DEFAULTS.beta1;
    this.tau = options.tau ?? FEDADAGRAD_DEFAULTS.tau;
    this.checkDecayRate('beta1', this.beta1);
    if (!(Number.isFinite(this.tau) && this.tau > 0)) throw new RangeError(`${this.name}: tau must be positive and finite, got ${this.tau}`);
  }

  protected step(weights: Float32Array, pseudoGradient: Float32Array, [firstMoment, secondMoment]: Float32Array[]): Float32Array {
    const settings: ServerAdagradSettings = { learningRate: this.options.serverLearningRate, beta1: this.beta1, tau: this.tau };
    return serverAdagradStep(weights, firstMoment, secondMoment, pseudoGradient, settings);
  }
}
