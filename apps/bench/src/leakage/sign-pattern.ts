// Attack (c): the sign pattern of the features under a normalising optimiser.
//
// Adam's first step is −lr·m̂/(√v̂ + ε) = −lr·g/(|g| + ε) ≈ −lr·sign(g) (Kingma & Ba, "Adam", ICLR 2015,
// https://arxiv.org/abs/1412.6980, §2.1: the first step's magnitude is bounded by lr whatever g is), so the
// ratio ΔW/Δb of the analytic attack (Phong et al. 2018) no longer holds, but for one example the signs do:
// sign(ΔW[i, k]) = sign(x_i)·sign(δ_k) and sign(Δb[k]) = sign(δ_k), hence sign(x_i) = sign(ΔW[i, k])·sign(Δb[k]).
// Later Adam steps keep the sign of a consistent gradient. The recovered pattern is ranked against candidates by
// sign agreement; as a vector it is the pattern times a magnitude prior (per-coordinate mean |x| over public
// texts of the same kind, which the coordinator may hold), so that its cosine to the true vector is meaningful.
import type { AttackResult, LeakageAttack } from './leakage-attack';
import { activeUnits, attackedLayer, type DenseLayerUpdate } from './first-dense-layer';
import type { ObservedUpdate } from './observed-update';

const MAX_UNITS = 64;

/**
 * The feature signs one update implies: s_i = sign(Σ_k sign(Δb[k])·ΔW[i, k]) over `units` (a vote weighted by the
 * kernel deltas; one unit gives sign(ΔW[i, k])·sign(Δb[k])). Entries are −1, 0 or +1.
 */
export function signPattern(update: DenseLayerUpdate, units: readonly number[]): Float32Array {
  const out = new Float32Array(update.inputDim);
  for (let i = 0; i < update.inputDim; i++) {
    let vote = 0;
    for (const k of units) vote += Math.sign(update.bias[k]) * update.kernel[i * update.units + k];
    out[i] = Math.sign(vote);
  }
  return out;
}

/**
 * The attack, with `magnitudePrior` (inputDim values ≥ 0, e.g. mean |x| per coordinate over public texts) to
 * turn a sign pattern into a vector; without it the vector is the ±1 pattern.
 */
export function signPatternAttack(magnitudePrior?: Float32Array): LeakageAttack {
  const scaled = (pattern: Float32Array) => {
    if (magnitudePrior) for (let i = 0; i < pattern.length; i++) pattern[i] *= magnitudePrior[i];
    return pattern;
  };
  return {
    name: 'sign',
    title: 'sign pattern under Adam (Kingma & Ba 2015; ΔW/Δb signs as in Phong et al. 2018)',
    async recover(observed: ObservedUpdate): Promise<AttackResult> {
      const layer = attackedLayer(observed);
      const units = activeUnits(layer).slice(0, MAX_UNITS);
      const vectors = observed.numExamples <= 1 ? [scaled(signPattern(layer, units))] : units.map((k) => scaled(signPattern(layer, [k])));
      return { vectors, rankBy: 'sign-agreement', detail: { layer: layer.layer, units: units.length } };
    },
  };
}
