// Checks that a list of named tensors has the layout (names, shapes, float32 data) the round expects.
// Every update crosses the wire from a client, so each mismatch is reported with a catalogue code and the
// message says what was expected and what came; nothing is accepted half-way.
import type { NamedTensor } from '@fedtl/protocol';
import { FedtlError, describeValue, isFloat32Array } from '@fedtl/util';

export interface TensorLayout {
  name: string;
  shape: readonly number[];
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((product, size) => product * size, 1);
}

/** Deep copies: the caller may keep or change them without touching the originals. */
export function copyTensors(tensors: readonly NamedTensor[]): NamedTensor[] {
  return tensors.map((tensor) => ({
    name: tensor.name,
    shape: tensor.shape.slice(),
    dtype: tensor.dtype,
    data: tensor.data.slice(),
  }));
}

function formatShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((size, i) => size === b[i]);
}

/** The layout of `tensors`, after checking that names are unique and shapes are non-negative integers. */
export function layoutOf(tensors: readonly NamedTensor[]): TensorLayout[] {
  const seen = new Set<string>();
  return tensors.map((tensor) => {
    if (seen.has(tensor.name)) {
      throw new FedtlError('FEDTL_ERR_BAD_TENSOR_NAME', `tensor "${tensor.name}" appears twice`, {
        name: tensor.name,
      });
    }
    seen.add(tensor.name);
    if (!tensor.shape.every((size) => Number.isInteger(size) && size >= 0)) {
      throw new FedtlError(
        'FEDTL_ERR_BAD_TENSOR_SHAPE',
        `tensor "${tensor.name}": expected a shape of non-negative integers, got ${formatShape(tensor.shape)}`,
        { name: tensor.name },
      );
    }
    return { name: tensor.name, shape: tensor.shape.slice() };
  });
}

/**
 * Checks that `tensors` holds exactly the tensors of `layout` (in any order), each float32, with the expected
 * shape and (unless `checkFinite` is false, for a caller that checks finiteness in its own pass over the values)
 * finite values. Returns, for each layout entry, the tensor that carries it.
 */
export function matchLayout(tensors: readonly NamedTensor[], layout: readonly TensorLayout[], checkFinite = true): NamedTensor[] {
  const byName = new Map<string, NamedTensor>();
  for (const tensor of tensors) {
    if (byName.has(tensor.name)) {
      throw new FedtlError('FEDTL_ERR_BAD_TENSOR_NAME', `tensor "${tensor.name}" appears twice`, {
        name: tensor.name,
      });
    }
    byName.set(tensor.name, tensor);
  }
  const expectedNames = new Set(layout.map((entry) => entry.name));
  const unknown = tensors.find((tensor) => !expectedNames.has(tensor.name));
  if (unknown) {
    throw new FedtlError(
      'FEDTL_ERR_BAD_TENSOR_NAME',
      `unknown tensor "${unknown.name}": expected only ${[...expectedNames].join(', ')}`,
      { name: unknown.name },
    );
  }
  return layout.map((entry) => {
    const tensor = byName.get(entry.name);
    if (!tensor) {
      throw new FedtlError('FEDTL_ERR_BAD_TENSOR_NAME', `tensor "${entry.name}" is missing`, { name: entry.name });
    }
    checkTensor(tensor, entry);
    if (checkFinite) requireFinite(tensor);
    return tensor;
  });
}

function checkTensor(tensor: NamedTensor, expected: TensorLayout): void {
  const { name } = tensor;
  if (!sameShape(tensor.shape, expected.shape)) {
    throw new FedtlError(
      'FEDTL_ERR_BAD_TENSOR_SHAPE',
      `tensor "${name}": expected shape ${formatShape(expected.shape)}, got ${formatShape(tensor.shape)}`,
      { name, expected: expected.shape.slice(), actual: tensor.shape.slice() },
    );
  }
  if (tensor.dtype !== 'float32') {
    throw new FedtlError('FEDTL_ERR_BAD_TENSOR_DTYPE', `tensor "${name}": expected float32, got ${tensor.dtype}`, {
      name,
    });
  }
  const size = elementCount(expected.shape);
  if (!isFloat32Array(tensor.data) || tensor.data.length !== size) {
    throw new FedtlError(
      'FEDTL_ERR_BAD_TENSOR_DATA',
      `tensor "${name}": expected Float32Array(${size}), got ${describeValue(tensor.data)}`,
      { name },
    );
  }
}

/** @throws FedtlError FEDTL_ERR_NON_FINITE naming the first element of `tensor` that is NaN or ±Infinity. */
export function requireFinite(tensor: NamedTensor): void {
  const data = tensor.data;
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      throw new FedtlError('FEDTL_ERR_NON_FINITE', `tensor "${tensor.name}": element ${i} is ${data[i]}`, { name: tensor.name, index: i });
    }
  }
}
