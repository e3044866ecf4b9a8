// Checks a received weight set against the tensors the model expects, before anything is aggregated or loaded:
// names, dtypes, shapes, and that float data holds only finite values.
import { FedtlError, boundText, isFloat32Array, quoteUntrusted } from '@fedtl/util';
import type { DType, NamedTensor } from './domain';
import { elementCount } from './tensor-codec';

/** What one tensor must look like. */
export interface TensorSpec {
  name: string;
  shape: readonly number[];
  dtype: DType;
}

/** Throws a FedtlError with the first problem found; returns nothing when `got` matches `expected` exactly. */
export function validateTensors(expected: readonly TensorSpec[], got: readonly NamedTensor[]): void {
  const specs = new Map(expected.map((spec) => [spec.name, spec]));
  const seen = new Set<string>();
  for (const tensor of got) {
    if (seen.has(tensor.name)) {
      throw new FedtlError('FEDTL_ERR_BAD_TENSOR_NAME', `expected each tensor once, got ${quoteUntrusted(tensor.name)} twice`);
    }
    seen.add(tensor.name);
    const spec = specs.get(tensor.name);
    if (!spec) {
      throw new FedtlError(
        'FEDTL_ERR_BAD_TENSOR_NAME',
        `expected tensors ${listNames(expected)}, got unknown tensor ${quoteUntrusted(tensor.name)}`,
      );
    }
    validateTensor(spec, tensor);
  }
  const missing = expected.filter((spec) => !seen.has(spec.name));
  if (missing.length > 0) {
    throw new FedtlError(
      'FEDTL_ERR_BAD_TENSOR_NAME',
      `expected tensors ${listNames(expected)}, got none for ${listNames(missing)}`,
    );
  }
}

function validateTensor(spec: TensorSpec, tensor: NamedTensor): void {
  if (tensor.dtype !== spec.dtype) {
    throw new FedtlError(
      'FEDTL_ERR_BAD_TENSOR_DTYPE',
      `tensor '${tensor.name}': expected dtype ${spec.dtype}, got ${tensor.dtype}`,
    );
  }
  if (!sameShape(spec.shape, tensor.shape)) {
    throw new FedtlError(
      'FEDTL_ERR_BAD_TENSOR_SHAPE',
      `tensor '${tensor.name}': expected shape [${spec.shape.join(',')}], got ${describeShape(tensor.shape)}`,
    );
  }
  const count = elementCount(spec.shape);
  if (tensor.data.length !== count) {
    throw new FedtlError(
      'FEDTL_ERR_BAD_TENSOR_DATA',
      `tensor '${tensor.name}' [${spec.shape.join(',')}]: expected ${count} values, got ${tensor.data.length}`,
    );
  }
  if (isFloat32Array(tensor.data)) requireFinite(tensor.name, tensor.data);
}

function requireFinite(name: string, values: Float32Array): void {
  for (let i = 0; i < values.length; i++) {
    // x - x is 0 for every finite x and NaN for NaN and ±Infinity: one subtraction instead of two calls.
    if (values[i] - values[i] !== 0) {
      throw new FedtlError(
        'FEDTL_ERR_NON_FINITE',
        `tensor '${name}': expected finite values, got ${values[i]} at index ${i}`,
        { tensor: name, index: i },
      );
    }
  }
}

/** A peer's shape for a message: its rank and at most 64 characters of its dimensions. */
function describeShape(shape: readonly number[]): string {
  return `[${boundText(shape.join(','), 64)}] (rank ${shape.length})`;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((dim, axis) => dim === b[axis]);
}

function listNames(specs: readonly TensorSpec[]): string {
  return `[${specs.map((spec) => `'${spec.name}'`).join(', ')}]`;
}
