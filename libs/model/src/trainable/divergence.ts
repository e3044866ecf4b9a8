// Training diverged: a loss or weights stopped being finite. One wording for the client (local training) and
// the coordinator (the aggregate), naming what to change: the learning rate almost always.
import { FedtlError } from '@fedtl/util';
import type { NamedTensor, TrainingConfig } from '@fedtl/protocol';

/** Where the first non-finite value of a tensor set is, if any. */
export interface NonFiniteValue {
  tensor: string;
  index: number;
  value: number;
}

/** The first NaN or ±Infinity in `tensors`, or undefined when every value is finite. */
export function firstNonFinite(tensors: readonly NamedTensor[]): NonFiniteValue | undefined {
  for (const tensor of tensors) {
    const data = tensor.data;
    for (let i = 0; i < data.length; i++) {
      // x - x is 0 for every finite x and NaN for NaN and ±Infinity.
      if (data[i] - data[i] !== 0) return { tensor: tensor.name, index: i, value: data[i] };
    }
  }
  return undefined;
}

/**
 * FEDTL_ERR_DIVERGED for `what` went wrong (e.g. "the local training loss is NaN"), naming the optimizer and
 * learning rate that caused it and telling the operator to lower the rate.
 */
export function divergedError(what: string, training: Pick<TrainingConfig, 'optimizer' | 'learningRate'>): FedtlError {
  return new FedtlError(
    'FEDTL_ERR_DIVERGED',
    `training diverged: ${what} (optimizer ${training.optimizer}, learning rate ${training.learningRate}); lower the learning rate (--learning-rate on the coordinator) and start again with --fresh`,
    { optimizer: training.optimizer, learningRate: training.learningRate },
  );
}
