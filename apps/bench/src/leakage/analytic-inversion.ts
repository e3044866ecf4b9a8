// Attack (a): analytic inversion of the first trainable dense layer.
//
// Phong, Aono, Hayashi, Wang, Moriai, "Privacy-Preserving Deep Learning via Additively Homomorphic Encryption",
// IEEE TIFS 2018 (https://eprint.iacr.org/2017/715), §3: for y = x·W + b, one example's gradient is
// dW = xᵀ·δ, db = δ, so x = dW[:, k] / db[k] for any unit k with db[k] ≠ 0; Zhu, Liu, Han, "Deep Leakage from
// Gradients", NeurIPS 2019 (https://arxiv.org/abs/1906.08935) show the same leak for whole networks. A local
// SGD step scales both by −lr, so the ratio survives in the delta; several steps or Adam only approximate it.
//
// One declared example: one vector, the least-squares x̂ = argmin_x ‖ΔW − x·Δbᵀ‖² = ΔW·Δb / ‖Δb‖² (every unit,
// weighted by its bias delta). Several examples: one vector per unit, ΔW[:, k] / Δb[k] for the units whose bias
// moved most (each a mixture of the examples that reached that unit; a unit reached by one example gives it).
import type { AttackResult, LeakageAttack } from './leakage-attack';
import { activeUnits, attackedLayer, kernelColumn, type DenseLayerUpdate } from './first-dense-layer';
import type { ObservedUpdate } from './observed-update';

/** Most per-unit vectors returned for a multi-example update. */
const MAX_UNITS = 64;

/** x̂ = ΔW·Δb / ‖Δb‖² for a layer update (a new Float32Array of inputDim; zeros when Δb = 0). */
export function leastSquaresInput(update: DenseLayerUpdate): Float32Array {
  const out = new Float32Array(update.inputDim);
  let norm = 0;
  for (let k = 0; k < update.units; k++) norm += update.bias[k] * update.bias[k];
  if (!(norm > 0) || !Number.isFinite(norm)) return out;
  for (let i = 0; i < update.inputDim; i++) {
    let sum = 0;
    for (let k = 0; k < update.units; k++) sum += update.kernel[i * update.units + k] * update.bias[k];
    out[i] = sum / norm;
  }
  return out;
}

/** ΔW[:, k] / Δb[k] (a new Float32Array of inputDim). */
export function unitInput(update: DenseLayerUpdate, k: number): Float32Array {
  const column = kernelColumn(update, k);
  const scale = 1 / update.bias[k];
  for (let i = 0; i < column.length; i++) column[i] *= scale;
  return column;
}

/** The attack: see the file header. Deterministic; no tensors. */
export const analyticInversion: LeakageAttack = {
  name: 'analytic',
  title: 'analytic inversion of the first dense layer (Phong et al. 2018)',
  async recover(observed: ObservedUpdate): Promise<AttackResult> {
    const layer = attackedLayer(observed);
    if (observed.numExamples <= 1) return { vectors: [leastSquaresInput(layer)], detail: { layer: layer.layer, units: layer.units } };
    const units = activeUnits(layer).slice(0, MAX_UNITS);
    return { vectors: units.map((k) => unitInput(layer, k)), detail: { layer: layer.layer, units: units.length } };
  },
};
