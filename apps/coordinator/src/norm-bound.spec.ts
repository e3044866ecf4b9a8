import type { NamedTensor } from '@fedtl/protocol';
import { boundDelta, l2Norm } from './norm-bound';

const tensor = (name: string, values: number[]): NamedTensor => ({ name, shape: [values.length], dtype: 'float32', data: Float32Array.from(values) });

describe('update norm bound', () => {
  const delta = [tensor('adapter/down/kernel', [3, 0]), tensor('head/out/bias', [4])];

  it('measures the L2 norm over all tensors together, without overflow at float32 extremes', () => {
    expect(l2Norm(delta)).toBe(5);
    expect(l2Norm([tensor('t', [3e38, 3e38, 3e38, 3e38])])).toBe(2 * Math.fround(3e38));
  });

  it('passes an update within the bound unchanged', () => {
    const bounded = boundDelta(delta, { maxNorm: 5, action: 'clip' });
    expect(bounded).toEqual({ delta, norm: 5 });
    expect(bounded.delta).toBe(delta);
  });

  it('clips a larger update to the bound, keeping its direction (Sun et al. 2019)', () => {
    const bounded = boundDelta(delta, { maxNorm: 2.5, action: 'clip' });
    expect(bounded.norm).toBe(5);
    expect(bounded.clipFactor).toBe(0.5);
    expect(bounded.delta.map((t) => Array.from(t.data))).toEqual([[1.5, 0], [2]]);
    expect(Array.from(delta[0].data)).toEqual([3, 0]);
    const huge = boundDelta([tensor('t', [3e38, -3e38])], { maxNorm: 100, action: 'clip' });
    expect(Array.from(huge.delta[0].data)).toEqual([Math.fround(100 / Math.SQRT2), Math.fround(-100 / Math.SQRT2)]);
    expect(l2Norm(huge.delta)).toBeCloseTo(100, 4);
  });

  it('rejects a larger update with FEDTL_ERR_UPDATE_TOO_LARGE naming its norm and the bound', () => {
    expect(() => boundDelta(delta, { maxNorm: 2.5, action: 'reject' })).toThrow(
      expect.objectContaining({ code: 'FEDTL_ERR_UPDATE_TOO_LARGE', message: 'expected an update with L2 norm at most 2.5 (--max-update-norm), got 5' }),
    );
  });
});
