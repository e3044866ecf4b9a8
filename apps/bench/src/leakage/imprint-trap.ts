// Optional attack: malicious global weights that make the adapter an imprint module, "Robbing the Fed"
// (Fowl, Geiping, Czaja, Goldblum, Goldstein, ICLR 2022, https://arxiv.org/abs/2110.13057).
//
// The coordinator sends weights in which every unit k of the adapter's down-projection measures the same
// direction a (kernel column k = a) with an increasing threshold: bias b_k = −q_k, q_k the (k+1)/(W+1) quantile of
// ⟨a, x⟩ over public texts of the same kind, so unit k fires for the examples with ⟨a, x⟩ > q_k. Every row of the
// up-projection is the same small vector u, so an example's error reaches every unit it fires as the same scalar
// δ_i. One SGD step over a batch then gives, per unit, ΔW[:, k] ∝ Σ_{i fires k} δ_i x_i and Δb[k] ∝ Σ δ_i, and
// neighbouring units differ by the examples in one bin: (ΔW[:, k] − ΔW[:, k+1]) / (Δb[k] − Δb[k+1]) = x_i exactly
// when example i is alone in bin k, however large the batch. Several steps or Adam blur it.
import type { ModelSpec, NamedTensor } from '@fedtl/protocol';
import { FedtlError, seededRandom } from '@fedtl/util';
import { initialWeights } from '@fedtl/model';
import type { AttackResult, LeakageAttack } from './leakage-attack';
import { denseLayerUpdate, kernelColumn } from './first-dense-layer';
import type { ObservedUpdate } from './observed-update';

/** Scale of the shared up-projection row u: small, so the trapped model stays close to the identity adapter. */
const UP_SCALE = 1e-2;

function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/**
 * The trap: global weights for `spec` (which needs an adapter) built from `publicFeatures` (inputDim each, at
 * at least 2; more than adapterWidth to give every unit its own threshold) and `seed`; the head keeps its ordinary initial weights. Throws
 * FEDTL_ERR_BAD_CONFIG without an adapter or with too few public vectors.
 */
export function imprintTrapWeights(spec: ModelSpec, publicFeatures: readonly Float32Array[], seed: number): NamedTensor[] {
  const width = spec.adapterWidth;
  const dim = spec.inputDim;
  if (width < 2) throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `imprint trap: expected an adapter of width ≥ 2, got ${width}`);
  if (publicFeatures.length < 2) throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `imprint trap: expected at least 2 public feature vectors, got ${publicFeatures.length}`);
  const random = seededRandom(seed);
  const a = Float64Array.from({ length: dim }, () => gaussian(random));
  const norm = Math.hypot(...a);
  for (let i = 0; i < dim; i++) a[i] /= norm;
  const projections = publicFeatures.map((x) => x.reduce((sum, value, i) => sum + value * a[i], 0)).sort((p, q) => p - q);
  const quantile = (p: number) => projections[Math.min(projections.length - 1, Math.floor(p * projections.length))];
  const u = Float64Array.from({ length: dim }, () => (UP_SCALE * gaussian(random)) / Math.sqrt(dim));
  return initialWeights(spec, seed).map((tensor) => {
    const data = tensor.data as Float32Array;
    if (tensor.name === 'adapter/down/kernel') for (let i = 0; i < dim; i++) for (let k = 0; k < width; k++) data[i * width + k] = a[i];
    if (tensor.name === 'adapter/down/bias') for (let k = 0; k < width; k++) data[k] = -quantile((k + 1) / (width + 1));
    if (tensor.name === 'adapter/up/kernel') for (let k = 0; k < width; k++) for (let j = 0; j < dim; j++) data[k * dim + j] = u[j];
    return tensor;
  });
}

/** The recovery: one vector per bin whose bias difference is not (numerically) zero. */
export const imprintRecovery: LeakageAttack = {
  name: 'imprint',
  title: 'imprint trap weights, bin differences (Fowl et al. 2022)',
  async recover(observed: ObservedUpdate): Promise<AttackResult> {
    const layer = denseLayerUpdate(observed.delta, 'adapter/down');
    const largest = Math.max(0, ...Array.from(layer.bias, Math.abs).filter(Number.isFinite));
    const vectors: Float32Array[] = [];
    for (let k = 0; k < layer.units; k++) {
      const column = kernelColumn(layer, k);
      let bias = layer.bias[k];
      if (k + 1 < layer.units) {
        const next = kernelColumn(layer, k + 1);
        for (let i = 0; i < column.length; i++) column[i] -= next[i];
        bias -= layer.bias[k + 1];
      }
      if (!(Math.abs(bias) > 1e-6 * largest) || !Number.isFinite(bias)) continue;
      for (let i = 0; i < column.length; i++) column[i] /= bias;
      vectors.push(column);
    }
    return { vectors, detail: { bins: vectors.length } };
  },
};
