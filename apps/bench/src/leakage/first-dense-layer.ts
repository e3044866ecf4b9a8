// Which dense layer of the adapter/head model sees the raw feature vector, and its update as a kernel and a bias.
//
// For a dense layer y = x·W + b, the gradient of one example's loss is dL/dW = xᵀ·δ and dL/db = δ (δ = dL/dy):
// every column k of the kernel's gradient is x scaled by δ_k (Phong et al., "Privacy-Preserving Deep Learning via
// Additively Homomorphic Encryption", IEEE TIFS 2018, https://eprint.iacr.org/2017/715). The adapter's
// down-projection is that layer; but the adapter's up-projection starts at zero (trainable-spec.ts), so in a
// first local step no error reaches the down-projection and only the head's first dense layer moves, whose
// input is then h = x (the identity adapter). The attacker takes the first layer that actually moved.
import type { ModelSpec, NamedTensor } from '@fedtl/protocol';
import { tensorOf, type ObservedUpdate } from './observed-update';

/** One dense layer's update: kernel delta [inputDim, units] row-major and bias delta [units]. */
export interface DenseLayerUpdate {
  /** 'adapter/down', 'head/hidden' or 'head/out'. */
  layer: string;
  inputDim: number;
  units: number;
  kernel: ArrayLike<number>;
  bias: ArrayLike<number>;
}

/** The layers whose input is the feature vector x (or h = x + adapter(x)), first to last. */
export function inputLayers(spec: ModelSpec): string[] {
  const head = spec.head === 'mlp' ? 'head/hidden' : 'head/out';
  return spec.adapterWidth > 0 ? ['adapter/down', head] : [head];
}

/** The update of dense layer `layer` (its kernel and bias tensors). Throws FEDTL_ERR_BAD_TENSOR_NAME if absent. */
export function denseLayerUpdate(delta: readonly NamedTensor[], layer: string): DenseLayerUpdate {
  const kernel = tensorOf(delta, `${layer}/kernel`);
  const bias = tensorOf(delta, `${layer}/bias`);
  return { layer, inputDim: kernel.shape[0], units: kernel.shape[1], kernel: kernel.data, bias: bias.data };
}

/**
 * The first layer of `inputLayers(spec)` whose bias delta is not (numerically) zero, else the last one: the
 * attacker's choice, made from the update alone. A bias that stayed at zero means no error reached that layer.
 */
export function firstMovedLayer(spec: ModelSpec, delta: readonly NamedTensor[]): DenseLayerUpdate {
  const layers = inputLayers(spec).map((name) => denseLayerUpdate(delta, name));
  const moved = layers.find((layer) => Array.from(layer.bias).some((value) => Math.abs(value) > 1e-12 && Number.isFinite(value)));
  return moved ?? layers[layers.length - 1];
}

/**
 * The layer the attacks read. Without DP, the first that moved (firstMovedLayer). Under DP noise every layer moves,
 * so the attacker reasons from what it sent instead: with the adapter's up-projection at zero in the global
 * weights, a single local step gives the down-projection no gradient (it holds noise only), and the head's first
 * layer is read; otherwise the first input layer.
 */
export function attackedLayer(observed: ObservedUpdate): DenseLayerUpdate {
  if (!observed.privacy) return firstMovedLayer(observed.spec, observed.delta);
  const layers = inputLayers(observed.spec);
  const downUnreached = observed.spec.adapterWidth > 0 && observed.privacy.localSteps === 1 && Array.from(tensorOf(observed.global, 'adapter/up/kernel').data).every((v) => v === 0);
  return denseLayerUpdate(observed.delta, downUnreached ? layers[1] : layers[0]);
}

/** Column k of the kernel delta (the weights from every input to unit k), a new Float32Array of inputDim. */
export function kernelColumn(update: DenseLayerUpdate, k: number): Float32Array {
  const out = new Float32Array(update.inputDim);
  for (let i = 0; i < update.inputDim; i++) out[i] = update.kernel[i * update.units + k];
  return out;
}

/** Units ordered by |bias delta|, largest first, keeping those above `relative` × the largest (finite ones only). */
export function activeUnits(update: DenseLayerUpdate, relative = 1e-3): number[] {
  const magnitude = Array.from(update.bias, (value) => (Number.isFinite(value) ? Math.abs(value) : 0));
  const largest = Math.max(0, ...magnitude);
  if (largest === 0) return [];
  return magnitude
    .map((value, unit) => ({ value, unit }))
    .filter(({ value }) => value >= relative * largest)
    .sort((a, b) => b.value - a.value || a.unit - b.unit)
    .map(({ unit }) => unit);
}
