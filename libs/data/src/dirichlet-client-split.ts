// A label-skewed split of one pool into many clients of (nearly) equal size, in the per-client form of Hsu, Qi
// and Brown, "Measuring the Effects of Non-Identical Data Distribution for Federated Visual Classification", 2019
// (https://arxiv.org/abs/1909.06335), section 3: every client draws its label mix q ~ Dir(α·p), p the pool's label
// distribution, and its examples are drawn by q. Small α gives each client mostly one label; large α gives every
// client the pool's mix.
//
// Why this form beside the per-label one (dirichlet-split.ts): that one deals each label's examples out in
// Dir(α·1_N) proportions, so client sizes vary and at N clients close to the pool's size many clients get nothing
// (1,000 clients of 6,400 two-label reviews at α = 0.5: 78 to 89 empty in each of three draws), and no redraw can fix it. Here
// client sizes are fixed first (⌊n/N⌋ or ⌈n/N⌉), so no client is empty while N ≤ n. When a client's drawn label has
// no example left, the draw is repeated over the labels that still have some: every example still goes to exactly
// one client, and the last clients' mixes lean towards what the others left (as with any draw without replacement).
import { seededRandom } from '@fedtl/util';
import { gammaVariate, shuffledLabelPools } from './dirichlet-split';

export interface DirichletClientSplitOptions {
  clients: number;
  /** α > 0: the concentration of each client's label mix around the pool's. */
  alpha: number;
  seed: number;
}

/**
 * Splits `items` into `options.clients` lists of ⌊n/N⌋ or ⌈n/N⌉ items (the first n mod N clients get one more), each
 * with its label mix drawn from Dir(α·p). Deterministic for a seed; every item goes to exactly one client.
 * @throws RangeError for clients not an integer in [1, items.length] or α not finite and > 0.
 */
export function dirichletClientSplit<T>(items: readonly T[], labelOf: (item: T) => string, options: DirichletClientSplitOptions): T[][] {
  const { clients, alpha, seed } = options;
  if (!Number.isInteger(clients) || clients < 1 || clients > items.length) {
    throw new RangeError(`dirichletClientSplit: expected clients to be an integer in [1, ${items.length}] (the items), got ${clients}`);
  }
  if (!(alpha > 0) || !Number.isFinite(alpha)) throw new RangeError(`dirichletClientSplit: expected alpha > 0 and finite, got ${alpha}`);
  const random = seededRandom(seed);
  const pools = shuffledLabelPools(items, labelOf, random);
  const prior = pools.map((pool) => pool.length / items.length);
  const taken = pools.map(() => 0);
  const parts: T[][] = [];
  for (let client = 0; client < clients; client++) {
    const size = Math.floor(items.length / clients) + (client < items.length % clients ? 1 : 0);
    const gammas = prior.map((p) => gammaVariate(alpha * p, random));
    const part: T[] = [];
    for (let slot = 0; slot < size; slot++) {
      const label = drawLabel(gammas, (k) => taken[k] < pools[k].length, random);
      part.push(pools[label][taken[label]++]);
    }
    parts.push(part);
  }
  return parts;
}

/**
 * A label index drawn in proportion to `weights` among those `available`; uniformly among the available ones when
 * all their weights are 0 (a Gamma variate of a tiny shape can underflow to 0).
 */
function drawLabel(weights: readonly number[], available: (k: number) => boolean, random: () => number): number {
  const open = weights.map((_, k) => k).filter(available);
  const total = open.reduce((sum, k) => sum + weights[k], 0);
  if (!(total > 0)) return open[Math.floor(random() * open.length)];
  let u = random() * total;
  for (const k of open) {
    u -= weights[k];
    if (u < 0) return k;
  }
  return open[open.length - 1];
}
