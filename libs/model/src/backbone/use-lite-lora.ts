// The use-lite encoder with LoRA pairs merged into its kernels: W' = W + (α / r)·A·B (Hu et al., ICLR 2022,
// https://arxiv.org/abs/2106.09685, eq. 3). Merging costs one [in, r]·[r, out] product per adapted kernel and
// step, far less than the r-wide detour per token it replaces, and leaves the forward pass exactly the packaged
// encoder's; gradients reach A and B through the sum.
import * as tf from '@tensorflow/tfjs-core';
import type { LoraSpec, LoraTarget } from '@fedtl/protocol';
import { loraTensorName } from '../trainable/lora-spec';
import type { UseLiteDense, UseLiteLayerWeights, UseLiteWeights } from './use-lite-weights';

type ProjectionField = 'query' | 'key' | 'value' | 'output' | 'ffnInner' | 'ffnOuter';

/** Which field of UseLiteLayerWeights each LoRA target adapts. */
const PROJECTION_FIELDS: Record<LoraTarget, ProjectionField> = {
  query: 'query',
  key: 'key',
  value: 'value',
  output: 'output',
  'ffn-inner': 'ffnInner',
  'ffn-outer': 'ffnOuter',
};

/**
 * A copy of `base` (the object, not its tensors) in which every projection `lora` names runs with
 * W + (α / r)·A·B, A and B from `tensor(name)` (names as `loraTensorName`). The merged kernels are new tensors:
 * call inside tf.tidy or a gradient function. `base` is untouched.
 * @throws Error when `tensor` has no tensor for a name the spec implies.
 */
export function withLora(base: UseLiteWeights, lora: LoraSpec, tensor: (name: string) => tf.Tensor | undefined): UseLiteWeights {
  const scale = lora.alpha / lora.rank;
  const layers = base.layers.map((layer, index): UseLiteLayerWeights => {
    if (!lora.layers.includes(index)) return layer;
    const adapted: UseLiteLayerWeights = { ...layer };
    for (const target of lora.targets) {
      const field = PROJECTION_FIELDS[target];
      const a = tensor(loraTensorName(index, target, 'a'));
      const b = tensor(loraTensorName(index, target, 'b'));
      if (!a || !b) throw new Error(`withLora: no tensors for ${loraTensorName(index, target, 'a')} and /b`);
      const projection: UseLiteDense = layer[field];
      adapted[field] = { kernel: tf.add(projection.kernel, tf.mul(tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D), scale)) as tf.Tensor2D, bias: projection.bias };
    }
    return adapted;
  });
  return { ...base, layers };
}
