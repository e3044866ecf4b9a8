// FedOpt — federated averaging with an optimiser on the server.
// S. J. Reddi, Z. Charles, M. Zaheer, Z. Garrett, K. Rush, J. Konečný, S. Kumar, H. B. McMahan, "Adaptive
// Federated Optimization", ICLR 2021. https://arxiv.org/abs/2003.00295
//
// Clients train exactly as under FedAvg. The server treats the round's example-weighted mean delta as a
// pseudo-gradient (local − global, so it already points downhill) and hands it to a first-order optimiser with
// state of its own: momentum (FedAvgM), Adam's moments (FedAdam)… Averaging a round's updates alone lets the
// global model swing between rounds when clients pull it towards different optima; the optimiser's state
// smooths those pulls over rounds.
//
// This base class keeps that state: under each of the optimiser's state names, one float32 tensor per global
// tensor, zero before the first step. It reaches checkpoints through state()/restore() in float32, the precision
// it is kept in, so a run resumed from a checkpoint takes bit for bit the steps an uninterrupted run would.
// Subclasses name the state and give the per-tensor step (the arithmetic itself lives in aggregate.ts).
import type { NamedTensor } from '@fedtl/protocol';
import { FedtlError } from '@fedtl/util';
import { FedAvg } from './fedavg';
import type { RoundAggregator, StrategyState } from './strategy';
import { copyTensors, elementCount, layoutOf, matchLayout, type TensorLayout } from './tensor-layout';

export abstract class FedOpt extends FedAvg {
  /** The optimiser's state, one tensor per global tensor under each name (checkpoint groups `state:<name>`). */
  protected abstract readonly stateNames: readonly string[];
  /** Per state name, in the global layout's order; null until the first step or a restore of a started run. */
  private optimizerState: Map<string, NamedTensor[]> | null = null;

  /**
   * The next weights of one tensor from its pseudo-gradient. `state` holds this tensor's state arrays, one per
   * entry of `stateNames` in that order, and is updated in place.
   */
  protected abstract step(weights: Float32Array, pseudoGradient: Float32Array, state: Float32Array[]): Float32Array;

  /** Checks an option in [0, 1), the range of a decay rate (momentum, β₁, β₂). */
  protected checkDecayRate(name: string, value: number): void {
    if (!(Number.isFinite(value) && value >= 0 && value < 1)) {
      throw new RangeError(`${this.name}: ${name} must be in [0, 1), got ${value}`);
    }
  }

  /**
   * Checks a restored optimiser state against the global weights before clients train, so a checkpoint that
   * does not fit fails the round at once rather than after every client spent its training time.
   */
  override beginRound(round: number, global: readonly NamedTensor[]): RoundAggregator {
    if (this.optimizerState) {
      try {
        this.stateFor(layoutOf(global));
      } catch (err) {
        throw new FedtlError('FEDTL_ERR_CHECKPOINT_CORRUPT', `${this.name}: the restored optimiser state does not fit the weights: ${(err as Error).message}`);
      }
    }
    return super.beginRound(round, global);
  }

  protected override serverUpdate(_round: number, global: readonly NamedTensor[], meanDelta: NamedTensor[]): NamedTensor[] {
    const layout = layoutOf(global);
    const pseudoGradient = matchLayout(meanDelta, layout);
    const state = this.stateFor(layout);
    return global.map((tensor, t) => ({
      name: tensor.name,
      shape: tensor.shape.slice(),
      dtype: 'float32',
      data: this.step(tensor.data as Float32Array, pseudoGradient[t].data as Float32Array, state.map((group) => group[t].data as Float32Array)),
    }));
  }

  /** A copy of the optimiser state; no tensors before the first step. */
  override state(): StrategyState {
    const tensors: Record<string, NamedTensor[]> = {};
    for (const [name, group] of this.optimizerState ?? []) tensors[name] = copyTensors(group);
    return { scalars: {}, tensors };
  }

  /**
   * Takes back what `state` returned (copied): either nothing (a run that has not stepped yet) or exactly the
   * state names of this optimiser, each with the same tensors. Anything else is FEDTL_ERR_CHECKPOINT_CORRUPT.
   */
  override restore(state: StrategyState): void {
    const corrupt = (why: string) => new FedtlError('FEDTL_ERR_CHECKPOINT_CORRUPT', `${this.name}: ${why}`);
    const scalars = Object.keys(state.scalars);
    if (scalars.length > 0) throw corrupt(`expected no scalar state, got ${scalars.join(', ')}`);
    const names = Object.keys(state.tensors);
    if (names.length === 0) {
      this.optimizerState = null;
      return;
    }
    const expected = [...this.stateNames].sort();
    if (names.length !== expected.length || [...names].sort().some((name, i) => name !== expected[i])) {
      throw corrupt(`expected state tensors ${expected.join(', ')}, got ${names.join(', ')}`);
    }
    const first = state.tensors[this.stateNames[0]];
    try {
      const layout = layoutOf(first);
      this.optimizerState = new Map(this.stateNames.map((name) => [name, copyTensors(matchLayout(state.tensors[name], layout))]));
    } catch (err) {
      if (err instanceof FedtlError) throw corrupt(`state tensors do not share one valid layout: ${err.message}`);
      throw err;
    }
  }

  /** The state arrays per name in `layout` order, zeros on the first step. */
  private stateFor(layout: readonly TensorLayout[]): NamedTensor[][] {
    if (!this.optimizerState) {
      const zeros = (): NamedTensor[] =>
        layout.map((entry) => ({ name: entry.name, shape: entry.shape.slice(), dtype: 'float32', data: new Float32Array(elementCount(entry.shape)) }));
      this.optimizerState = new Map(this.stateNames.map((name) => [name, zeros()]));
    }
    const state = this.optimizerState;
    // A restored state must fit the weights it is applied to; the same check reorders it into layout order.
    return this.stateNames.map((name) => {
      const ordered = matchLayout(state.get(name) ?? [], layout);
      state.set(name, ordered);
      return ordered;
    });
  }
}
