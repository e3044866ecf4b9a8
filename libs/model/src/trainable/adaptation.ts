// Few-shot adaptation of a learned initialisation on one client's labelled examples, as a meta-learned
// initialisation is meant to be used (MAML's test-time adaptation, Finn et al., ICML 2017; Per-FedAvg's
// personalisation step, Fallah et al., NeurIPS 2020): a fixed, small number of full-batch gradient steps from the
// initialisation, nothing sent anywhere. The same procedure adapts any initialisation (meta-learned, FedAvg's or a
// fresh one), so they can be compared step for step.
import type { ModelSpec, NamedTensor } from '@fedtl/protocol';
import { FedtlError, describeValue } from '@fedtl/util';
import { trainLocally, type LabelledExamples } from './local-training';

export interface AdaptationOptions {
  /** Full-batch gradient steps (an integer ≥ 1). */
  steps: number;
  /** Step size; for a Per-FedAvg initialisation, the α it was meta-trained with. */
  learningRate: number;
  /** 'sgd' (the steps Per-FedAvg's objective assumes) or 'adam'. Default 'sgd'. */
  optimizer?: 'sgd' | 'adam';
  /** Which tensors adapt; default all. */
  trainable?: (name: string) => boolean;
  seed: number;
}

export interface AdaptationResult {
  /** The adapted weights, in the order and with the names of the initialisation. */
  weights: NamedTensor[];
  /** Cross-entropy and accuracy on the adaptation examples at the last step (measured before it), wall seconds. */
  metrics: { loss: number; accuracy: number; seconds: number };
}

/**
 * Adapts `init` (the trainable tensors of `spec`) to `data` by `options.steps` full-batch steps.
 * @throws FedtlError FEDTL_ERR_BAD_CONFIG for steps < 1 or a learning rate that is not positive and finite,
 *   FEDTL_ERR_BAD_DATA for features or labels that do not fit `spec`, FEDTL_ERR_DIVERGED when the steps diverge.
 */
export async function adaptLocally(spec: ModelSpec, init: readonly NamedTensor[], data: LabelledExamples, options: AdaptationOptions): Promise<AdaptationResult> {
  if (!Number.isInteger(options.steps) || options.steps < 1) {
    throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `adaptation: steps must be an integer ≥ 1, got ${describeValue(options.steps)}`, { field: 'steps' });
  }
  const config = { localEpochs: options.steps, batchSize: Math.max(1, data.n), learningRate: options.learningRate, optimizer: options.optimizer ?? 'sgd', seed: options.seed };
  const result = await trainLocally(spec, init, data, config, options.trainable ? { trainable: options.trainable } : {});
  // trainLocally's delta has init's names and order.
  const weights = init.map((tensor, t): NamedTensor => {
    const change = result.delta[t].data;
    return { name: tensor.name, shape: tensor.shape.slice(), dtype: 'float32', data: Float32Array.from(tensor.data, (value, i) => value + change[i]) };
  });
  return { weights, metrics: result.metrics };
}
