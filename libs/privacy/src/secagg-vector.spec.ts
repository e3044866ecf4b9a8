import { FixedPointCodec, addInPlace } from './fixed-point';
import { chooseFractionalBits, packContribution, secAggVectorLength, unpackAggregate } from './secagg-vector';

const terms = { clip: 10, weightBound: 300, weightCap: 300, metricSlots: ['loss', 'accuracy'] };

describe('secure-aggregation vector', () => {
  it('gives back the weighted FedAvg mean and weighted metrics from the sum, within the fixed-point step', () => {
    const clients = [
      { deltas: [Float32Array.of(1, -2), Float32Array.of(0.5)], numExamples: 100, metrics: { loss: 0.6, accuracy: 0.7 } },
      { deltas: [Float32Array.of(-1, 4), Float32Array.of(0.25)], numExamples: 300, metrics: { loss: 0.2, accuracy: 0.9 } },
    ];
    const codec = new FixedPointCodec({ fractionalBits: chooseFractionalBits(2, terms.clip), clip: terms.clip, maxSummands: 2 });
    const sum = new Uint32Array(secAggVectorLength([2, 1], terms.metricSlots));
    for (const client of clients) addInPlace(sum, codec.encode(packContribution(client, terms).values).values);
    const result = unpackAggregate(codec.decodeSum(sum, 2), [2, 1], terms);
    const expected = [[(100 * 1 + 300 * -1) / 400, (100 * -2 + 300 * 4) / 400], [(100 * 0.5 + 300 * 0.25) / 400]];
    result.meanDeltas.forEach((mean, t) => Array.from(mean).forEach((v, i) => expect(Math.abs(v - expected[t][i])).toBeLessThan(4 * codec.step)));
    expect(result.totalWeight).toBeCloseTo(400, 3);
    expect(result.metrics.loss).toBeCloseTo((100 * 0.6 + 300 * 0.2) / 400, 5);
    expect(result.metrics.accuracy).toBeCloseTo((100 * 0.7 + 300 * 0.9) / 400, 5);
  });

  it('clips the delta to the L2 bound and the weight to the share cap before scaling', () => {
    const packed = packContribution({ deltas: [Float32Array.of(30, 40)], numExamples: 500, metrics: {} }, { ...terms, weightCap: 200, weightBound: 200 });
    expect(packed.norm).toBe(50);
    expect(packed.clipFactor).toBeCloseTo(0.2, 12);
    expect(packed.weight).toBe(200);
    expect(Array.from(packed.values)).toEqual([6, 8, 1, 0, 0]);
  });

  it('refuses a weight above the bound, a non-finite delta and a sum of the wrong length', () => {
    expect(() => packContribution({ deltas: [], numExamples: 400, metrics: {} }, { ...terms, weightCap: 1000 })).toThrow(/at most the round's bound 300/);
    expect(() => packContribution({ deltas: [Float32Array.of(NaN)], numExamples: 1, metrics: {} }, terms)).toThrow(/NaN/);
    expect(() => unpackAggregate(new Float64Array(3), [2, 1], terms)).toThrow(/expected a sum of 6 values, got 3/);
    expect(() => unpackAggregate(new Float64Array(6), [2, 1], terms)).toThrow(/positive total weight/);
  });

  it('chooses the most fractional bits that keep n · clip · 2^f below 2^31, and refuses what cannot fit', () => {
    expect(chooseFractionalBits(4, 100)).toBe(22);
    expect(4 * 100 * 2 ** 22).toBeLessThan(2 ** 31);
    expect(4 * 100 * 2 ** 23).toBeGreaterThanOrEqual(2 ** 31);
    expect(chooseFractionalBits(1, 0.01)).toBe(24);
    expect(() => chooseFractionalBits(1000, 1e7)).toThrow(/fit the 32-bit ring/);
  });
});
