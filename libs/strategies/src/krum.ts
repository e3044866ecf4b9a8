// Krum and MultiKrum — Byzantine-tolerant selection of updates.
// P. Blanchard, E. M. El Mhamdi, R. Guerraoui, J. Stainer, "Machine Learning with Adversaries: Byzantine
// Tolerant Gradient Descent", NeurIPS 2017. https://papers.nips.cc/paper/6617
//
// With n updates of which at most f are Byzantine, each update i is scored by the sum of its squared Euclidean
// distances to its n − f − 2 nearest other updates. Krum takes the update with the lowest score as the round's
// delta; MultiKrum takes the m lowest-scoring updates and averages them (unweighted, as in the paper: the rule
// selects vectors, example counts play no part; ties are broken by client id). The paper's guarantee needs
// n > 2f + 2, so a round with fewer updates is refused (FEDTL_ERR_QUORUM_NOT_MET), and MultiKrum needs m ≤ n − f
// so that it never has to average in an update it cannot tell from a Byzantine one; m defaults to n − f.
// Memory: the round's n accepted updates, O(n × P) float32 for P parameters, plus an n × n distance matrix
// (see robust.ts).
import type { FedAvgOptions } from './fedavg';
import { RobustStrategy, type RobustCombination } from './robust';

export interface KrumOptions extends FedAvgOptions {
  /** f, the Byzantine clients to tolerate in a round (an integer ≥ 0). Default 1: rounds need n ≥ 5 updates. */
  byzantineClients?: number;
}

export interface MultiKrumOptions extends KrumOptions {
  /** m, the updates selected and averaged (an integer ≥ 1). Default: n − f of the round's n updates. */
  selected?: number;
}

export const KRUM_DEFAULTS = { byzantineClients: 1 } as const;

/** Krum's score of every delta: the sum of its squared distances to its n − f − 2 nearest others (n > 2f + 2). */
export function krumScores(deltas: readonly Float32Array[], byzantineClients: number): number[] {
  const n = deltas.length;
  const neighbours = n - byzantineClients - 2;
  if (neighbours < 1 || n <= 2 * byzantineClients + 2) throw new RangeError(`krumScores: n = ${n} is not > 2f + 2 with f = ${byzantineClients}`);
  const distance = Array.from({ length: n }, () => new Float64Array(n));
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const a = deltas[i];
      const b = deltas[j];
      let sum = 0;
      for (let p = 0; p < a.length; p++) sum += (a[p] - b[p]) ** 2;
      distance[i][j] = sum;
      distance[j][i] = sum;
    }
  }
  return distance.map((row, i) => {
    const others = Array.from(row).filter((_d, j) => j !== i).sort((x, y) => x - y);
    return others.slice(0, neighbours).reduce((sum, d) => sum + d, 0);
  });
}

/** The indices of the `m` lowest Krum scores, lowest first; ties broken by `ids`. */
export function krumSelect(deltas: readonly Float32Array[], ids: readonly string[], byzantineClients: number, m: number): number[] {
  const scores = krumScores(deltas, byzantineClients);
  const order = scores.map((_s, i) => i).sort((i, j) => scores[i] - scores[j] || (ids[i] < ids[j] ? -1 : ids[i] > ids[j] ? 1 : 0));
  return order.slice(0, m);
}

export class MultiKrum extends RobustStrategy {
  override readonly name: string = 'MultiKrum';
  readonly byzantineClients: number;
  /** m; undefined: n − f of each round's n updates. */
  readonly selected: number | undefined;

  constructor(options: MultiKrumOptions = {}) {
    const f = options.byzantineClients ?? KRUM_DEFAULTS.byzantineClients;
    const strategy = new.target.name;
    if (!(Number.isInteger(f) && f >= 0)) throw new RangeError(`${strategy}: byzantineClients must be an integer ≥ 0, got ${f}`);
    const m = options.selected;
    if (m !== undefined && !(Number.isInteger(m) && m >= 1)) throw new RangeError(`${strategy}: selected must be an integer ≥ 1, got ${m}`);
    super(RobustStrategy.withFewest(options, fewestForKrum(f, m)));
    this.byzantineClients = f;
    this.selected = m;
    this.checkMinFitClients(options.minFitClients);
  }

  get fewestUpdates(): number {
    return fewestForKrum(this.byzantineClients, this.selected);
  }

  protected get fewestReason(): string {
    const f = this.byzantineClients;
    const krum = `n > 2f + 2 with f = ${f}`;
    return this.selected !== undefined && this.selected + f > 2 * f + 3 ? `${krum} and n ≥ m + f with m = ${this.selected}` : krum;
  }

  protected combine(deltas: readonly Float32Array[], ids: readonly string[]): RobustCombination {
    const n = deltas.length;
    const m = this.selected ?? n - this.byzantineClients;
    const chosen = krumSelect(deltas, ids, this.byzantineClients, m);
    const delta = new Float32Array(deltas[0].length);
    for (let p = 0; p < delta.length; p++) {
      let sum = 0;
      for (const i of chosen) sum += deltas[i][p];
      delta[p] = sum / chosen.length;
    }
    return { delta, metrics: { 'robust/selected': chosen.length, 'robust/excluded': n - chosen.length } };
  }
}

/** Krum: MultiKrum with m = 1, the single lowest-scoring update. */
export class Krum extends MultiKrum {
  override readonly name: string = 'Krum';

  constructor(options: KrumOptions = {}) {
    super({ ...options, selected: 1 });
  }
}

/** The fewest updates a Krum round needs: n > 2f + 2, and n ≥ m + f when m is given. */
export function fewestForKrum(byzantineClients: number, selected?: number): number {
  return Math.max(2 * byzantineClients + 3, selected === undefined ? 0 : selected + byzantineClients);
}
