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
  const headers = new TensorHeaderCheck(expected);
  for (const tensor of got) {
    const spec = headers.check(tensor);
    const count = elementCount(spec.shape);
    if (tensor.data.length !== count) {
      throw new FedtlError(
        'FEDTL_ERR_BAD_TENSOR_DATA',
        `tensor '${tensor.name}' [${spec.shape.join(',')}]: expected ${count} values, got ${tensor.data.length}`,
      );
    }
    if (isFloat32Array(tensor.data)) requireFinite(tensor.name, tensor.data);
  }
  headers.requireAllSeen();
}

/**
 * Checks a message's tensors one header (name, dtype, shape) at a time against the tensors the model expects,
 * so a decoder can refuse a tensor before it reads its data or expands it (codec.ts). Same codes and wording as
 * validateTensors, which uses it: a tensor refused from its header reads like one refused after decoding.
 */
export class TensorHeaderCheck {
  private readonly specs: ReadonlyMap<string, TensorSpec>;
  private readonly seen = new Set<string>();

  constructor(private readonly expected: readonly TensorSpec[]) {
    this.specs = new Map(expected.map((spec) => [spec.name, spec]));
  }

  /** Values the expected tensors hold in all: the most a message matching them can hold. */
  get totalValues(): number {
    return this.expected.reduce((total, spec) => total + elementCount(spec.shape), 0);
  }

  /**
   * The spec `header` matches. Throws FEDTL_ERR_BAD_TENSOR_NAME for a name not expected or seen before,
   * FEDTL_ERR_BAD_TENSOR_DTYPE / _SHAPE for another dtype or shape.
   */
  check(header: TensorSpec): TensorSpec {
    if (this.seen.has(header.name)) {
      throw new FedtlError('FEDTL_ERR_BAD_TENSOR_NAME', `expected each tensor once, got ${quoteUntrusted(header.name)} twice`);
    }
    this.seen.add(header.name);
    const spec = this.specs.get(header.name);
    if (!spec) {
      throw new FedtlError(
        'FEDTL_ERR_BAD_TENSOR_NAME',
        `expected tensors ${listNames(this.expected)}, got unknown tensor ${quoteUntrusted(header.name)}`,
      );
    }
    if (header.dtype !== spec.dtype) {
      throw new FedtlError(
        'FEDTL_ERR_BAD_TENSOR_DTYPE',
        `tensor '${header.name}': expected dtype ${spec.dtype}, got ${header.dtype}`,
      );
    }
    if (!sameShape(spec.shape, header.shape)) {
      throw new FedtlError(
        'FEDTL_ERR_BAD_TENSOR_SHAPE',
        `tensor '${header.name}': expected shape [${spec.shape.join(',')}], got ${describeShape(header.shape)}`,
      );
    }
    return spec;
  }

  /** Throws FEDTL_ERR_BAD_TENSOR_NAME naming the expected tensors no checked header had. */
  requireAllSeen(): void {
    const missing = this.expected.filter((spec) => !this.seen.has(spec.name));
    if (missing.length > 0) {
      throw new FedtlError(
        'FEDTL_ERR_BAD_TENSOR_NAME',
        `expected tensors ${listNames(this.expected)}, got none for ${listNames(missing)}`,
      );
    }
  }
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
