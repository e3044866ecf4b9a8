import type { NamedTensor } from '@fedtl/protocol';
import { FedtlError, type ErrorCode } from '@fedtl/util';
import { checkTrainableWeights, initialWeights, trainableTensorSpecs } from './trainable-spec';
import { specFor } from './test-support';

function codeOf(fn: () => unknown): ErrorCode | string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof FedtlError ? err.code : `not a FedtlError: ${String(err)}`;
  }
  return undefined;
}

describe('trainableTensorSpecs', () => {
  it('lists the adapter and a linear head', () => {
    const specs = trainableTensorSpecs(specFor({ labels: ['a', 'b', 'c'] }));
    expect(specs.map(({ name, shape }) => [name, shape])).toEqual([
      ['adapter/down/kernel', [16, 4]],
      ['adapter/down/bias', [4]],
      ['adapter/up/kernel', [4, 16]],
      ['adapter/up/bias', [16]],
      ['head/out/kernel', [16, 3]],
      ['head/out/bias', [3]],
    ]);
    expect(specs.every((s) => s.dtype === 'float32')).toBe(true);
  });

  it('lists an MLP head and drops the adapter when its width is 0', () => {
    const specs = trainableTensorSpecs(specFor({ adapterWidth: 0, head: 'mlp', headHidden: 5 }));
    expect(specs.map(({ name, shape }) => [name, shape])).toEqual([
      ['head/hidden/kernel', [16, 5]],
      ['head/hidden/bias', [5]],
      ['head/out/kernel', [5, 2]],
      ['head/out/bias', [2]],
    ]);
  });

  it.each([
    [{ inputDim: 0 }, 'inputDim'],
    [{ adapterWidth: -1 }, 'adapterWidth'],
    [{ adapterWidth: 1.5 }, 'adapterWidth'],
    [{ head: 'conv' as 'mlp' }, 'head'],
    [{ head: 'mlp' as const, headHidden: 0 }, 'headHidden'],
    [{ labels: ['only'] }, 'labels'],
    [{ labels: ['a', 'a'] }, 'labels'],
  ])('refuses a bad spec %p naming %s', (overrides, field) => {
    expect(() => trainableTensorSpecs(specFor(overrides))).toThrow(
      expect.objectContaining({ code: 'FEDTL_ERR_BAD_CONFIG', details: { field } }),
    );
  });
});

describe('initialWeights', () => {
  const spec = specFor({ head: 'mlp', labels: ['a', 'b', 'c'] });

  it('has Glorot-uniform kernels, zero biases and a zero up-projection', () => {
    const weights = initialWeights(spec, 1);
    expect(weights.map((w) => w.name)).toEqual(trainableTensorSpecs(spec).map((s) => s.name));
    for (const { name, shape, data } of weights) {
      expect(data).toBeInstanceOf(Float32Array);
      expect(data.length).toBe(shape.reduce((a, b) => a * b, 1));
      if (name.endsWith('/bias') || name === 'adapter/up/kernel') {
        expect(data.every((v) => v === 0)).toBe(true);
      } else {
        const limit = Math.sqrt(6 / (shape[0] + shape[1]));
        expect(data.every((v) => Math.abs(v) <= limit)).toBe(true);
        expect(Math.max(...data.map(Math.abs))).toBeGreaterThan(limit / 2);
        const mean = Array.from(data).reduce((a, b) => a + b, 0) / data.length;
        expect(Math.abs(mean)).toBeLessThan(limit / 3);
      }
    }
  });

  it('is deterministic for a seed and differs across seeds', () => {
    expect(initialWeights(spec, 42)).toEqual(initialWeights(spec, 42));
    expect(initialWeights(spec, 42)[0].data).not.toEqual(initialWeights(spec, 43)[0].data);
  });

  it('draws each tensor from its own seed, so the head does not depend on the adapter', () => {
    const withAdapter = initialWeights(specFor({ adapterWidth: 4 }), 5);
    const without = initialWeights(specFor({ adapterWidth: 0 }), 5);
    const head = (weights: NamedTensor[]) => weights.find((w) => w.name === 'head/out/kernel');
    expect(head(withAdapter)).toEqual(head(without));
  });
});

describe('checkTrainableWeights', () => {
  const spec = specFor();
  const weights = initialWeights(spec, 3);

  it('returns the weights in spec order, whatever their order', () => {
    expect(checkTrainableWeights(spec, weights.slice().reverse())).toEqual(weights);
  });

  it('refuses missing, unknown, repeated, misshapen, mistyped and non-finite tensors with codes', () => {
    const replace = (i: number, change: object) => weights.map((w, j) => (i === j ? { ...w, ...change } : w));
    const cases: Array<[NamedTensor[], string]> = [
      [weights.slice(1), 'FEDTL_ERR_BAD_TENSOR_NAME'],
      [replace(0, { name: 'backbone/embed' }), 'FEDTL_ERR_BAD_TENSOR_NAME'],
      [[...weights, weights[0]], 'FEDTL_ERR_BAD_TENSOR_NAME'],
      [replace(0, { shape: [4, 16] }), 'FEDTL_ERR_BAD_TENSOR_SHAPE'],
      [replace(1, { dtype: 'int32' }), 'FEDTL_ERR_BAD_TENSOR_DTYPE'],
      [replace(1, { data: new Float32Array(3) }), 'FEDTL_ERR_BAD_TENSOR_DATA'],
      [replace(1, { data: Float32Array.of(0, Infinity, 0, 0) }), 'FEDTL_ERR_NON_FINITE'],
    ];
    for (const [bad, code] of cases) expect(codeOf(() => checkTrainableWeights(spec, bad))).toBe(code);
  });
});
