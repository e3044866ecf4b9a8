import { type ErrorCode, FedtlError } from '@fedtl/util';
import type { NamedTensor } from './domain';
import { type TensorSpec, validateTensors } from './validate';

const expected: TensorSpec[] = [
  { name: 'head/kernel', shape: [4, 3], dtype: 'float32' },
  { name: 'head/bias', shape: [3], dtype: 'float32' },
  { name: 'head/step', shape: [], dtype: 'int32' },
];

function matching(): NamedTensor[] {
  return [
    { name: 'head/kernel', shape: [4, 3], dtype: 'float32', data: new Float32Array(12).fill(0.5) },
    { name: 'head/bias', shape: [3], dtype: 'float32', data: Float32Array.of(0.1, -0.2, 0) },
    { name: 'head/step', shape: [], dtype: 'int32', data: Int32Array.of(7) },
  ];
}

function expectFedtlError(fn: () => unknown, code: ErrorCode, message: RegExp): FedtlError {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(FedtlError);
  expect((thrown as FedtlError).code).toBe(code);
  expect((thrown as FedtlError).message).toMatch(message);
  return thrown as FedtlError;
}

describe('validateTensors', () => {
  it('accepts a matching set in any order', () => {
    expect(() => validateTensors(expected, matching().reverse())).not.toThrow();
  });

  it('quotes a peer\'s names and shapes as bounded, escaped excerpts', () => {
    const hugeShape = [...matching()];
    hugeShape[1] = { ...hugeShape[1], shape: Array.from({ length: 190_000 }, () => 1) };
    const shapeError = expectFedtlError(() => validateTensors(expected, hugeShape), 'FEDTL_ERR_BAD_TENSOR_SHAPE', /got \[1,1,1.*…\[379999 chars\]\] \(rank 190000\)$/);
    expect(shapeError.message.length).toBeLessThan(200);
    const forged = [...matching(), { ...matching()[1], name: 'evil\n' + 'n'.repeat(10_000) }];
    const nameError = expectFedtlError(() => validateTensors(expected, forged), 'FEDTL_ERR_BAD_TENSOR_NAME', /got unknown tensor "evil\\nn+…\[10005 chars\]"$/);
    expect(nameError.message.length).toBeLessThan(200);
  });

  it('refuses missing, unknown and duplicate names', () => {
    expectFedtlError(
      () => validateTensors(expected, matching().slice(1)),
      'FEDTL_ERR_BAD_TENSOR_NAME',
      /expected tensors \['head\/kernel', 'head\/bias', 'head\/step'\], got none for \['head\/kernel'\]/,
    );
    const unknown = [...matching(), { ...matching()[1], name: 'head/extra' }];
    expectFedtlError(() => validateTensors(expected, unknown), 'FEDTL_ERR_BAD_TENSOR_NAME', /got unknown tensor "head\/extra"/);
    const duplicate = [...matching(), matching()[1]];
    expectFedtlError(() => validateTensors(expected, duplicate), 'FEDTL_ERR_BAD_TENSOR_NAME', /expected each tensor once, got "head\/bias" twice/);
  });

  it('refuses another shape', () => {
    const got = matching();
    got[0] = { ...got[0], shape: [3, 4] };
    expectFedtlError(() => validateTensors(expected, got), 'FEDTL_ERR_BAD_TENSOR_SHAPE', /tensor 'head\/kernel': expected shape \[4,3\], got \[3,4\]/);
  });

  it('refuses another dtype', () => {
    const got = matching();
    got[2] = { ...got[2], dtype: 'float32', data: Float32Array.of(7) };
    expectFedtlError(() => validateTensors(expected, got), 'FEDTL_ERR_BAD_TENSOR_DTYPE', /tensor 'head\/step': expected dtype int32, got float32/);
  });

  it('refuses data whose length does not match the shape', () => {
    const got = matching();
    got[1] = { ...got[1], data: Float32Array.of(1, 2) };
    expectFedtlError(() => validateTensors(expected, got), 'FEDTL_ERR_BAD_TENSOR_DATA', /expected 3 values, got 2/);
  });

  it.each([
    [NaN, 'NaN'],
    [Infinity, 'Infinity'],
    [-Infinity, '-Infinity'],
  ])('refuses %s, naming the tensor and the index', (value, text) => {
    const got = matching();
    got[0].data[5] = value;
    const thrown = expectFedtlError(
      () => validateTensors(expected, got),
      'FEDTL_ERR_NON_FINITE',
      new RegExp(`tensor 'head/kernel': expected finite values, got ${text} at index 5`),
    );
    expect(thrown.details).toEqual({ tensor: 'head/kernel', index: 5 });
  });
});
