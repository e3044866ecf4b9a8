import { decodeRoundPlan, encodeRoundPlan } from './codec';
import type { RoundPlan, UpdateCompression } from './domain';
import { fedtl } from './generated/fedtl';
import { adapterWeights } from './testing/fixtures';
import { canonicalUpdateCompression, formatUpdateCompression, parseUpdateCompression } from './update-compression';

const plan = (updateCompression?: UpdateCompression): RoundPlan => ({
  runId: 'run-1',
  round: 3,
  weights: adapterWeights(1).slice(0, 1),
  config: { localEpochs: 1, batchSize: 16, learningRate: 0.003, optimizer: 'adam', seed: 7, ...(updateCompression ? { updateCompression } : {}) },
});

describe('the operator\'s words for a compression', () => {
  it('reads float32, float16, int8 and topk:F, and writes them back the same', () => {
    expect(parseUpdateCompression('float32')).toEqual({ encoding: 'raw' });
    expect(parseUpdateCompression(' Float16 ')).toEqual({ encoding: 'float16' });
    expect(parseUpdateCompression('int8')).toEqual({ encoding: 'int8' });
    expect(parseUpdateCompression('topk:0.01')).toEqual({ encoding: 'sparse', topkFraction: 0.01 });
    expect(parseUpdateCompression('topk:1')).toEqual({ encoding: 'sparse', topkFraction: 1 });
    for (const word of ['float32', 'float16', 'int8', 'topk:0.01', 'topk:0.25']) expect(formatUpdateCompression(parseUpdateCompression(word))).toBe(word);
    expect(formatUpdateCompression(undefined)).toBe('float32');
  });

  it('gives the canonical word of every accepted spelling, and refuses the rest', () => {
    expect(canonicalUpdateCompression(' TopK:0.010 ')).toBe('topk:0.01');
    expect(canonicalUpdateCompression('topk:1e-2')).toBe('topk:0.01');
    expect(canonicalUpdateCompression('INT8')).toBe('int8');
    expect(() => canonicalUpdateCompression('gzip')).toThrow(RangeError);
  });

  it('names nothing for anything else', () => {
    for (const word of ['', 'raw', 'sparse', 'topk', 'topk:', 'topk:0', 'topk:1.5', 'topk:-0.1', 'topk:abc', 'topk:0x1', 'int4', 'topk:0.1,int8']) {
      expect(parseUpdateCompression(word)).toBeUndefined();
    }
  });
});

describe('UpdateCompression in the round plan (TrainingConfig field 22)', () => {
  it('round-trips every compression; float32 leaves the plan byte-identical to one without it', () => {
    for (const compression of [{ encoding: 'float16' }, { encoding: 'int8' }, { encoding: 'sparse', topkFraction: 0.05 }] as UpdateCompression[]) {
      expect(decodeRoundPlan(encodeRoundPlan(plan(compression))).config.updateCompression).toEqual(compression);
    }
    expect(encodeRoundPlan(plan({ encoding: 'raw' }))).toEqual(encodeRoundPlan(plan()));
    expect(decodeRoundPlan(encodeRoundPlan(plan())).config.updateCompression).toBeUndefined();
  });

  it('refuses a plan whose fraction does not fit its encoding', () => {
    const withCompression = (updateCompression: fedtl.v1.UpdateCompression.$Properties) => {
      const wire = fedtl.v1.RoundPlan.decode(encodeRoundPlan(plan()));
      wire.config = { ...wire.config, updateCompression } as fedtl.v1.TrainingConfig;
      return fedtl.v1.RoundPlan.encode(wire).finish();
    };
    const sparse = fedtl.v1.TensorEncoding.TENSOR_ENCODING_SPARSE;
    expect(() => decodeRoundPlan(withCompression({ encoding: sparse, topkFraction: 0 }))).toThrow(/RoundPlan\.config\.updateCompression\.topkFraction: expected a fraction in \(0, 1\] with the sparse encoding, got 0/);
    expect(() => decodeRoundPlan(withCompression({ encoding: sparse, topkFraction: 2 }))).toThrow(/got 2/);
    expect(() => decodeRoundPlan(withCompression({ encoding: sparse, topkFraction: NaN }))).toThrow(/got NaN/);
    expect(() => decodeRoundPlan(withCompression({ encoding: fedtl.v1.TensorEncoding.TENSOR_ENCODING_INT8, topkFraction: 0.5 }))).toThrow(/expected 0 with encoding int8/);
    expect(() => decodeRoundPlan(withCompression({ encoding: 9 as fedtl.v1.TensorEncoding }))).toThrow(/encoding/);
  });
});
