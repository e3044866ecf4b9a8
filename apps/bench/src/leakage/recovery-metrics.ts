// How well a set of recovered vectors matches a client's true feature vectors: the cosine of each guess to its
// best-matching true vector, and the top-1 rate at which the guesses pick the true texts out of a pool (the
// client's own vectors and others of the same dataset), with the rate a blind guess would reach.

/** Cosine similarity of two equal-length vectors; 0 when either is all zeros or not finite. */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  const value = dot / Math.sqrt(na * nb);
  return Number.isFinite(value) ? value : 0;
}

/** Share of coordinates where both vectors have the same sign (−1, 0 or +1). */
export function signAgreement(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let same = 0;
  for (let i = 0; i < a.length; i++) if (Math.sign(a[i]) === Math.sign(b[i])) same++;
  return same / a.length;
}

export interface RecoveryScore {
  /** Mean over guesses of the best cosine to one of the true vectors; null without guesses. */
  cosine: number | null;
  /** Share of the true vectors that are the top-1 pick of at least one guess. */
  top1: number;
  /** Expected top-1 of as many uniformly random picks from the same pool: 1 − (1 − 1/N)^guesses. */
  chance: number;
  /** Candidates in the pool: the true vectors plus the others. */
  poolSize: number;
  guesses: number;
}

/**
 * Scores `guesses` against the client's `truth` within the pool truth ∪ others. Each guess picks the candidate
 * with the highest cosine (or sign agreement with `rankBy: 'sign-agreement'`); ties go to the earlier candidate,
 * the others first, so a guess that does not discriminate never counts as a hit. Vectors all have one length.
 * Without guesses the top-1 rate is the chance rate of one blind pick (the coordinator can always guess).
 */
export function scoreRecovery(
  guesses: readonly Float32Array[],
  truth: readonly Float32Array[],
  others: readonly Float32Array[],
  rankBy: 'cosine' | 'sign-agreement' = 'cosine',
): RecoveryScore {
  const poolSize = truth.length + others.length;
  const pool = [...others, ...truth];
  const similarity = rankBy === 'cosine' ? cosine : signAgreement;
  if (guesses.length === 0) return { cosine: null, top1: 1 / poolSize, chance: 1 / poolSize, poolSize, guesses: 0 };
  const hit = new Set<number>();
  let cosineSum = 0;
  for (const guess of guesses) {
    let best = -Infinity;
    let pick = -1;
    pool.forEach((candidate, index) => {
      const value = similarity(guess, candidate);
      if (value > best) {
        best = value;
        pick = index;
      }
    });
    if (pick >= others.length) hit.add(pick - others.length);
    cosineSum += Math.max(...truth.map((t) => cosine(guess, t)));
  }
  return {
    cosine: cosineSum / guesses.length,
    top1: hit.size / truth.length,
    chance: 1 - (1 - 1 / poolSize) ** guesses.length,
    poolSize,
    guesses: guesses.length,
  };
}

/** Mean and sample standard deviation (0 for fewer than two values); null for no values. */
export function meanAndSd(values: readonly number[]): { mean: number; sd: number } | null {
  if (values.length === 0) return null;
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.length < 2 ? 0 : values.reduce((sum, v) => sum + (v - mean) ** 2, 0) / (values.length - 1);
  return { mean, sd: Math.sqrt(variance) };
}
