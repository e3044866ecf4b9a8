import { paddingFraction, throughputRows } from './throughput';

const row = (configuration: 'naive' | 'pool', seconds: number[]) => ({ configuration, description: '', threads: 1, texts: 10, seconds, paddingFraction: 0, flops: 2e9 });

describe('throughputRows', () => {
  it('divides by the naive baseline repetition by repetition and takes the median ratio', () => {
    const [naive, pool] = throughputRows([row('naive', [2, 4, 3]), row('pool', [1, 1, 3])]);
    expect(naive.speedupOverNaive).toBe(1);
    expect(pool.speedupOverNaive).toBe(2);
    expect(pool.textsPerSecond).toBe(10);
    expect(naive.gflops).toBeCloseTo(2 / 3, 10);
  });

  it('needs the naive baseline with as many repetitions', () => {
    expect(() => throughputRows([row('pool', [1])])).toThrow('baseline');
    expect(() => throughputRows([row('naive', [1, 2]), row('pool', [1])])).toThrow(RangeError);
  });
});

describe('paddingFraction', () => {
  it('is the share of padded positions when each batch pads to its longest text', () => {
    expect(paddingFraction([1, 3, 2, 2], [[0, 1], [2, 3]])).toBeCloseTo(1 - 8 / 10, 10);
    expect(paddingFraction([5, 1], [[0], [1]])).toBe(0);
    expect(paddingFraction([], [])).toBe(0);
  });
});
