// A label-skewed split of one pool of examples into many clients: the Dirichlet split of Hsu, Qi and Brown,
// "Measuring the Effects of Non-Identical Data Distribution for Federated Visual Classification", 2019
// (https://arxiv.org/abs/1909.06335), in its per-label form (Yurochkin et al., ICML 2019; Flower's
// DirichletPartitioner): each label's examples are dealt out to the N clients in proportions p ~ Dir(α·1_N). Small α
// gives each client few labels; large α gives every client the pool's label mix. Every example goes to exactly one
// client; client sizes vary. A draw that leaves a client with fewer than `minExamples` is drawn again (the next
// proportions from the same seeded stream), at most `maxDraws` times.
import { seededRandom, shuffled } from '@fedtl/util';

export interface DirichletSplitOptions {
  clients: number;
  /** α > 0: the concentration of every label's proportions over the clients. */
  alpha: number;
  seed: number;
  /** Each client gets at least this many examples (default 1: no client is empty). */
  minExamples?: number;
  /** Draws before giving up (default 100). */
  maxDraws?: number;
}

/** A Gamma(shape, 1) variate (Marsaglia and Tsang 2000; for shape < 1, Gamma(shape + 1)·U^(1/shape)). */
export function gammaVariate(shape: number, random: () => number): number {
  if (shape < 1) return gammaVariate(shape + 1, random) * Math.pow(1 - random(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = standardNormal(random);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - random();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

/** Box–Muller on two uniforms from `random`. */
function standardNormal(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** Proportions over `n` parts drawn from the symmetric Dirichlet Dir(α·1_n): normalised Gamma(α) variates. */
export function dirichletVariate(n: number, alpha: number, random: () => number): number[] {
  const gammas = Array.from({ length: n }, () => gammaVariate(alpha, random));
  const total = gammas.reduce((sum, g) => sum + g, 0);
  return gammas.map((g) => g / total);
}

/**
 * Splits `items` into `options.clients` lists by a per-label Dirichlet draw: each label's items (shuffled by the
 * seed) are cut at round(cumulative proportion × count). Deterministic for a seed.
 * @throws RangeError for fewer than 1 client, α not > 0, more clients × minExamples than items, or no draw within
 *   maxDraws that gives every client minExamples.
 */
/**
 * The items grouped by label, labels in sorted order, each group shuffled with `random`: the pools both Dirichlet
 * splits deal from (sorted, so that a seed gives the same split whatever the items' order of labels).
 */
export function shuffledLabelPools<T>(items: readonly T[], labelOf: (item: T) => string, random: () => number): T[][] {
  const byLabel = new Map<string, T[]>();
  for (const item of items) {
    const label = labelOf(item);
    const list = byLabel.get(label) ?? [];
    list.push(item);
    byLabel.set(label, list);
  }
  return [...byLabel.keys()].sort().map((label) => shuffled(byLabel.get(label) ?? [], random));
}

export function dirichletLabelSplit<T>(items: readonly T[], labelOf: (item: T) => string, options: DirichletSplitOptions): T[][] {
  const { clients, alpha, seed } = options;
  const minExamples = options.minExamples ?? 1;
  const maxDraws = options.maxDraws ?? 100;
  if (!Number.isInteger(clients) || clients < 1) throw new RangeError(`dirichletLabelSplit: expected clients to be an integer ≥ 1, got ${clients}`);
  if (!(alpha > 0) || !Number.isFinite(alpha)) throw new RangeError(`dirichletLabelSplit: expected alpha > 0, got ${alpha}`);
  if (clients * minExamples > items.length) {
    throw new RangeError(`dirichletLabelSplit: expected at least ${clients * minExamples} items for ${clients} clients of ${minExamples}, got ${items.length}`);
  }
  const random = seededRandom(seed);
  const pools = shuffledLabelPools(items, labelOf, random);
  for (let draw = 0; draw < maxDraws; draw++) {
    const parts: T[][] = Array.from({ length: clients }, () => []);
    for (const pool of pools) {
      const proportions = dirichletVariate(clients, alpha, random);
      let cumulative = 0;
      let from = 0;
      proportions.forEach((p, client) => {
        cumulative += p;
        const to = client === clients - 1 ? pool.length : Math.round(cumulative * pool.length);
        parts[client].push(...pool.slice(from, to));
        from = Math.max(from, to);
      });
    }
    if (parts.every((part) => part.length >= minExamples)) return parts;
  }
  throw new RangeError(`dirichletLabelSplit: no draw in ${maxDraws} gave each of ${clients} clients ${minExamples} or more of ${items.length} items at alpha ${alpha}`);
}
