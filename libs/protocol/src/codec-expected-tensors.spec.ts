// decodeUpdate with the receiver's tensors: a delta tensor's header is checked before its data is decoded, so a
// few hostile bytes claiming a huge sparse tensor (or one the model does not have) never reach decodeTensor, where
// a sparse tensor is expanded into a dense Float32Array of its header's shape.
import { type ErrorCode, FedtlError } from '@fedtl/util';
import { decodeEvaluateRequest, decodeRoundPlan, decodeUpdate, encodeEvaluateRequest, encodeRoundPlan, encodeUpdate } from './codec';
import type { NamedTensor, TensorEncoding, Update } from './domain';
import { decodeTensor } from './tensor-codec';
import { encodeHostileSparseUpdate, encodeInflatedEvaluateRequest, encodeInflatedRoundPlan } from './testing/hostile-sparse';
import { sampleRoundPlan } from './testing/fixtures';
import { validateTensors, type TensorSpec } from './validate';

// The codec's decodeTensor, wrapped so a test can tell whether (and for which tensor) it was reached.
jest.mock('./tensor-codec', () => {
  const actual = jest.requireActual('./tensor-codec');
  return { ...actual, decodeTensor: jest.fn(actual.decodeTensor) };
});
const decodeTensorCalls = decodeTensor as jest.MockedFunction<typeof decodeTensor>;

const kernel: NamedTensor = { name: 'head/out/kernel', shape: [4, 2], dtype: 'float32', data: Float32Array.of(0, 1, 0, 0, 0, 0, 2, 0) };
const bias: NamedTensor = { name: 'head/out/bias', shape: [2], dtype: 'float32', data: Float32Array.of(0, -0.5) };
const model: TensorSpec[] = [kernel, bias].map(({ name, shape, dtype }) => ({ name, shape, dtype }));
const updateOf = (delta: NamedTensor[]): Update => ({ runId: 'run-1', round: 2, clientId: 'org-1', delta, numExamples: 3, metrics: {} });

function refusal(fn: () => unknown): FedtlError {
  try {
    fn();
  } catch (err) {
    if (err instanceof FedtlError) return err;
    throw err;
  }
  throw new Error('expected a FedtlError, got a return');
}

function expectRefusedUnread(payload: Uint8Array, code: ErrorCode, message: RegExp): void {
  decodeTensorCalls.mockClear();
  const error = refusal(() => decodeUpdate(payload, { expectedTensors: model }));
  expect([error.code, error.message]).toEqual([code, expect.stringMatching(message)]);
  expect(decodeTensorCalls).not.toHaveBeenCalled();
}

describe('decodeUpdate with the expected tensors', () => {
  it('decodes an update of the model\'s tensors in every encoding, as without them', () => {
    for (const tensorEncoding of ['raw', 'float16', 'int8', 'sparse'] as TensorEncoding[]) {
      const bytes = encodeUpdate(updateOf([kernel, bias]), { tensorEncoding });
      const checked = decodeUpdate(bytes, { expectedTensors: model });
      expect([tensorEncoding, checked]).toEqual([tensorEncoding, decodeUpdate(bytes)]);
      expect(() => validateTensors(model, checked.delta)).not.toThrow();
    }
  });

  it('refuses sparse tensors claiming the whole per-message budget from their header, before expanding any', () => {
    const update = updateOf([kernel, bias]);
    expectRefusedUnread(
      encodeHostileSparseUpdate(update, 'inflated-shapes'),
      'FEDTL_ERR_BAD_TENSOR_SHAPE',
      /^Update\.delta\.0: tensor 'head\/out\/kernel': expected shape \[4,2\], got \[16777216\] \(rank 1\)$/,
    );
    expectRefusedUnread(
      encodeHostileSparseUpdate(update, 'inflated-unknown-name'),
      'FEDTL_ERR_BAD_TENSOR_NAME',
      /^Update\.delta\.0: expected tensors \['head\/out\/kernel', 'head\/out\/bias'\], got unknown tensor "backbone\/secret"$/,
    );
  });

  it('checks each header before that tensor\'s data: a later bad tensor is refused once the good ones are decoded', () => {
    const huge: NamedTensor = { ...bias, shape: [2, 1] };
    decodeTensorCalls.mockClear();
    const error = refusal(() => decodeUpdate(encodeUpdate(updateOf([kernel, huge]), { tensorEncoding: 'sparse' }), { expectedTensors: model }));
    expect([error.code, error.message]).toEqual(['FEDTL_ERR_BAD_TENSOR_SHAPE', "Update.delta.1: tensor 'head/out/bias': expected shape [2], got [2,1] (rank 2)"]);
    expect(decodeTensorCalls.mock.calls.map(([wire]) => wire.name)).toEqual(['head/out/kernel']);
  });

  it('refuses a repeated tensor and another dtype from the header, with validateTensors\'s codes and wording', () => {
    const int32Kernel: NamedTensor = { ...kernel, dtype: 'int32', data: new Int32Array(8) };
    expectRefusedUnread(encodeUpdate(updateOf([int32Kernel, bias])), 'FEDTL_ERR_BAD_TENSOR_DTYPE', /^Update\.delta\.0: tensor 'head\/out\/kernel': expected dtype float32, got int32$/);
    expect(refusal(() => validateTensors(model, [int32Kernel, bias])).message).toBe("tensor 'head/out/kernel': expected dtype float32, got int32");

    decodeTensorCalls.mockClear();
    const repeated = refusal(() => decodeUpdate(encodeUpdate(updateOf([bias, bias]), { tensorEncoding: 'sparse' }), { expectedTensors: model }));
    expect([repeated.code, repeated.message]).toEqual(['FEDTL_ERR_BAD_TENSOR_NAME', 'Update.delta.1: expected each tensor once, got "head/out/bias" twice']);
    expect(decodeTensorCalls).toHaveBeenCalledTimes(1);
  });
});

describe('decodeRoundPlan and decodeEvaluateRequest with the expected tensors (a client checking its coordinator)', () => {
  it('decodes the model\'s weights as without them', () => {
    const plan = { ...sampleRoundPlan(), weights: [kernel, bias] };
    const bytes = encodeRoundPlan(plan, { tensorEncoding: 'sparse' });
    expect(decodeRoundPlan(bytes, { expectedTensors: model })).toEqual(decodeRoundPlan(bytes));
    const request = encodeEvaluateRequest({ runId: 'run-1', round: 2, weights: [kernel, bias] });
    expect(decodeEvaluateRequest(request, { expectedTensors: model })).toEqual(decodeEvaluateRequest(request));
  });

  it('refuses an inflated sparse tensor from its header, before expanding it', () => {
    const plan = encodeInflatedRoundPlan({ ...sampleRoundPlan(), weights: [kernel, bias] });
    const request = encodeInflatedEvaluateRequest({ runId: 'run-1', round: 2, weights: [kernel, bias] });
    // Without the check, both decode to the inflated dense tensor.
    expect(decodeRoundPlan(plan).weights[0].data).toHaveLength(4096 * 4095);
    for (const [decode, where] of [
      [() => decodeRoundPlan(plan, { expectedTensors: model }), 'RoundPlan.weights.0'],
      [() => decodeEvaluateRequest(request, { expectedTensors: model }), 'EvaluateRequest.weights.0'],
    ] as const) {
      decodeTensorCalls.mockClear();
      const error = refusal(decode);
      expect([error.code, error.message]).toEqual(['FEDTL_ERR_BAD_TENSOR_SHAPE', `${where}: tensor 'head/out/kernel': expected shape [4,2], got [4096,4095] (rank 2)`]);
      expect(decodeTensorCalls).not.toHaveBeenCalled();
    }
  });
});
