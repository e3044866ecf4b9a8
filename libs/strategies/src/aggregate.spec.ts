import type { NamedTensor } from '@fedtl/protocol';
import { FedtlError, seededRandom } from '@fedtl/util';
import fc from 'fast-check';
import { WeightedDeltaAccumulator, WeightedMetricsAccumulator, addScaled, applyDelta, serverAdamStep, serverMomentumStep, weightedMean } from './aggregate';

const LAYOUT = [
  { name: 'adapter/down/kernel', shape: [4, 3] },
  { name: 'adapter/down/bias', shape: [3] },
  { name: 'head/out/kernel', shape: [4, 2] },
];

function randomTensors(random: () => number, scale = 1): NamedTensor[] {
  return LAYOUT.map(({ name, shape }) => {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = (random() * 2 - 1) * scale;
    return { name, shape: shape.slice(), dtype: 'float32', data };
  });
}

/** The exact weighted mean in float64, computed independently of the code under test. */
function referenceMean(deltas: NamedTensor[][], weights: number[]): Float64Array[] {
  const total = weights.reduce((a, b) => a + b, 0);
  return deltas[0].map((_, t) => {
    const out = new Float64Array(deltas[0][t].data.length);
    for (let i = 0; i < out.length; i++) {
      let sum = 0;
      deltas.forEach((delta, k) => (sum += weights[k] * delta[t].data[i]));
      out[i] = sum / total;
    }
    return out;
  });
}

function expectClose(actual: NamedTensor[], expected: Float64Array[], tolerance = 1e-6): void {
  expect(actual.map((t) => t.name)).toEqual(LAYOUT.map((l) => l.name));
  actual.forEach((tensor, t) => {
    expect(tensor.dtype).toBe('float32');
    expect(tensor.data).toBeInstanceOf(Float32Array);
    for (let i = 0; i < expected[t].length; i++) {
      expect(Math.abs(tensor.data[i] - expected[t][i])).toBeLessThanOrEqual(tolerance);
    }
  });
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof FedtlError ? err.code : `not a FedtlError: ${String(err)}`;
  }
  return undefined;
}

describe('WeightedDeltaAccumulator', () => {
  const random = seededRandom(7);
  const deltas = Array.from({ length: 9 }, () => randomTensors(random, 3));
  const weights = [1, 250, 17, 3, 1000, 42, 5, 77, 9];

  it('equals the exact float64 weighted mean to 1e-6', () => {
    const accumulator = new WeightedDeltaAccumulator(LAYOUT);
    deltas.forEach((delta, k) => accumulator.add(delta, weights[k]));
    expect(accumulator.count).toBe(9);
    expect(accumulator.totalWeight).toBe(weights.reduce((a, b) => a + b, 0));
    expectClose(accumulator.mean(), referenceMean(deltas, weights));
  });

  it('streams to the same result as the batch mean, whatever the arrival order or tensor order', () => {
    const batch = weightedMean(deltas, weights);
    const streamed = new WeightedDeltaAccumulator(LAYOUT);
    for (const k of [8, 3, 0, 5, 1, 7, 2, 6, 4]) streamed.add(deltas[k].slice().reverse(), weights[k]);
    expectClose(
      streamed.mean(),
      batch.map((t) => Float64Array.from(t.data)),
      1e-7,
    );
  });

  it('is associative: partial means added with their total weights give the full mean', () => {
    const left = new WeightedDeltaAccumulator(LAYOUT);
    const right = new WeightedDeltaAccumulator(LAYOUT);
    deltas.forEach((delta, k) => (k < 4 ? left : right).add(delta, weights[k]));
    const parent = new WeightedDeltaAccumulator(LAYOUT);
    parent.add(left.mean(), left.totalWeight);
    parent.add(right.mean(), right.totalWeight);
    expectClose(parent.mean(), referenceMean(deltas, weights));
  });

  it('rejects mismatched updates with catalogue codes and leaves the sums unchanged', () => {
    const accumulator = new WeightedDeltaAccumulator(LAYOUT);
    accumulator.add(deltas[0], 2);
    const good = deltas[1];
    const wrongShape = good.map((t, i) => (i === 0 ? { ...t, shape: [3, 4] } : t));
    const missing = good.slice(1);
    const unknown = [...good, { ...good[1], name: 'head/hidden/bias' }];
    const repeated = [...good.slice(0, 2), { ...good[2], name: good[0].name }];
    const wrongDtype = good.map((t, i) => (i === 1 ? { ...t, dtype: 'int32' as const, data: new Int32Array(3) } : t));
    const shortData = good.map((t, i) => (i === 1 ? { ...t, data: new Float32Array(2) } : t));
    const withNaN = (t: NamedTensor) => ({ ...t, data: Float32Array.from(t.data, (v, j) => (j === 5 ? NaN : v)) });
    const nan = good.map((t, i) => (i === 2 ? withNaN(t) : t));

    expect(codeOf(() => accumulator.add(wrongShape, 1))).toBe('FEDTL_ERR_BAD_TENSOR_SHAPE');
    expect(codeOf(() => accumulator.add(missing, 1))).toBe('FEDTL_ERR_BAD_TENSOR_NAME');
    expect(codeOf(() => accumulator.add(unknown, 1))).toBe('FEDTL_ERR_BAD_TENSOR_NAME');
    expect(codeOf(() => accumulator.add(repeated, 1))).toBe('FEDTL_ERR_BAD_TENSOR_NAME');
    expect(codeOf(() => accumulator.add(wrongDtype, 1))).toBe('FEDTL_ERR_BAD_TENSOR_DTYPE');
    expect(codeOf(() => accumulator.add(shortData, 1))).toBe('FEDTL_ERR_BAD_TENSOR_DATA');
    expect(codeOf(() => accumulator.add(nan, 1))).toBe('FEDTL_ERR_NON_FINITE');
    expect(codeOf(() => accumulator.add(good, 0))).toBe('FEDTL_ERR_BAD_EXAMPLE_COUNT');
    expect(codeOf(() => accumulator.add(good, NaN))).toBe('FEDTL_ERR_BAD_EXAMPLE_COUNT');

    expect(accumulator.count).toBe(1);
    expect(accumulator.totalWeight).toBe(2);
    expectClose(accumulator.mean(), referenceMean([deltas[0]], [1]));
  });

  it('leaves the sums bit for bit as they were when a later tensor holds ±Infinity or NaN at any index', () => {
    const accumulator = new WeightedDeltaAccumulator(LAYOUT);
    accumulator.add(deltas[0], 3);
    const before = accumulator.mean();
    for (const bad of [Infinity, -Infinity, NaN]) {
      for (let index = 0; index < 8; index++) {
        const hostile = deltas[1].map((t, i) => (i === 2 ? { ...t, data: Float32Array.from(t.data, (v, j) => (j === index ? bad : v * 1e30)) } : t));
        expect(codeOf(() => accumulator.add(hostile, 7))).toBe('FEDTL_ERR_NON_FINITE');
      }
    }
    expect(accumulator.mean()).toEqual(before);
  });

  it('says what was expected and what came', () => {
    const accumulator = new WeightedDeltaAccumulator(LAYOUT);
    const wrongShape = deltas[0].map((t, i) => (i === 0 ? { ...t, shape: [3, 4] } : t));
    expect(() => accumulator.add(wrongShape, 1)).toThrow(
      'tensor "adapter/down/kernel": expected shape [4,3], got [3,4]',
    );
  });

  it('takes its layout from the first delta when none is given', () => {
    const accumulator = new WeightedDeltaAccumulator();
    accumulator.add(deltas[0], 1);
    expect(codeOf(() => accumulator.add(deltas[1].slice(0, 2), 1))).toBe('FEDTL_ERR_BAD_TENSOR_NAME');
  });

  it('refuses a layout with repeated names, and mean() before any add', () => {
    expect(codeOf(() => new WeightedDeltaAccumulator([LAYOUT[0], LAYOUT[0]]))).toBe('FEDTL_ERR_BAD_TENSOR_NAME');
    expect(() => new WeightedDeltaAccumulator(LAYOUT).mean()).toThrow('no delta was added');
  });
});

describe('weightedMean', () => {
  it('matches the reference and refuses mismatched argument lists', () => {
    const random = seededRandom(11);
    const deltas = [randomTensors(random), randomTensors(random)];
    expectClose(weightedMean(deltas, [3, 1]), referenceMean(deltas, [3, 1]));
    expect(() => weightedMean(deltas, [1])).toThrow(RangeError);
    expect(() => weightedMean([], [])).toThrow(RangeError);
  });
});

describe('applyDelta', () => {
  it('adds scale · delta in the global order without touching its inputs', () => {
    const random = seededRandom(3);
    const global = randomTensors(random);
    const delta = randomTensors(random);
    const globalCopy = global.map((t) => t.data.slice());
    const deltaCopy = delta.map((t) => t.data.slice());
    const next = applyDelta(global, delta.slice().reverse(), 0.5);
    expect(next.map((t) => t.name)).toEqual(global.map((t) => t.name));
    next.forEach((tensor, t) => {
      for (let i = 0; i < tensor.data.length; i++) {
        expect(tensor.data[i]).toBe(Math.fround(global[t].data[i] + 0.5 * delta[t].data[i]));
      }
    });
    global.forEach((t, i) => expect(t.data).toEqual(globalCopy[i]));
    delta.forEach((t, i) => expect(t.data).toEqual(deltaCopy[i]));
    expect(next[0].data).not.toBe(global[0].data);
  });

  it('defaults to scale 1 and rejects a delta of another layout', () => {
    const random = seededRandom(5);
    const global = randomTensors(random);
    const delta = randomTensors(random);
    expect(applyDelta(global, delta)[1].data[0]).toBe(Math.fround(global[1].data[0] + delta[1].data[0]));
    const wrong = delta.map((t, i) => (i === 2 ? { ...t, shape: [2, 4] } : t));
    expect(codeOf(() => applyDelta(global, wrong))).toBe('FEDTL_ERR_BAD_TENSOR_SHAPE');
    expect(() => applyDelta(global, delta, Infinity)).toThrow(RangeError);
  });
});

describe('WeightedMetricsAccumulator', () => {
  it('weights each key by the records that carry a finite value for it', () => {
    const metrics = new WeightedMetricsAccumulator();
    metrics.add({ loss: 1, accuracy: 0.5 }, 1);
    metrics.add({ loss: 3, accuracy: NaN, extra: 7 }, 3);
    expect(metrics.mean()).toEqual({ loss: 2.5, accuracy: 0.5, extra: 7 });
    expect(() => metrics.add({}, 0)).toThrow(RangeError);
  });
});

describe('server optimiser steps', () => {
  const weights = Float32Array.from([0.5, -1, 2, 0]);
  const gradient = Float32Array.from([0.1, -0.2, 0, 0.05]);

  it('serverMomentumStep: m ← β·m + g in place, returns x + η·m', () => {
    const momentum = Float32Array.from([1, 0, -1, 0.5]);
    const next = serverMomentumStep(weights, momentum, gradient, 0.9, 0.5);
    const expectedMomentum = [0.9 * 1 + 0.1, -0.2, -0.9, 0.9 * 0.5 + 0.05];
    expectedMomentum.forEach((m, i) => {
      expect(momentum[i]).toBeCloseTo(m, 6);
      expect(next[i]).toBeCloseTo(weights[i] + 0.5 * m, 6);
    });
    expect(weights).toEqual(Float32Array.from([0.5, -1, 2, 0]));
  });

  it('serverAdamStep: both moments in place, returns x + η·m/(√v + τ)', () => {
    const m = Float32Array.from([0.1, 0, 0, 0]);
    const v = Float32Array.from([0.04, 0, 0, 0.01]);
    const settings = { learningRate: 0.1, beta1: 0.9, beta2: 0.99, tau: 1e-3 };
    const next = serverAdamStep(weights, m, v, gradient, settings);
    for (let i = 0; i < 4; i++) {
      const m0 = [0.1, 0, 0, 0][i];
      const v0 = [0.04, 0, 0, 0.01][i];
      const g = gradient[i];
      const mi = 0.9 * m0 + 0.1 * g;
      const vi = 0.99 * v0 + 0.01 * g * g;
      expect(m[i]).toBeCloseTo(mi, 7);
      expect(v[i]).toBeCloseTo(vi, 7);
      expect(next[i]).toBeCloseTo(weights[i] + (0.1 * mi) / (Math.sqrt(vi) + 1e-3), 6);
    }
  });

  it('refuses arrays of different lengths', () => {
    expect(() => serverMomentumStep(weights, new Float32Array(3), gradient, 0.9, 1)).toThrow(RangeError);
    const settings = { learningRate: 0.1, beta1: 0.9, beta2: 0.99, tau: 1e-3 };
    expect(() => serverAdamStep(weights, new Float32Array(4), new Float32Array(4), new Float32Array(5), settings)).toThrow(RangeError);
  });
});

describe('addScaled', () => {
  const finite = fc.float({ noNaN: true, noDefaultInfinity: true });

  it('writes sums + weight · values, as a plain loop does, and reports finite values', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.double({ noNaN: true, min: -1e6, max: 1e6 }), finite), { maxLength: 23 }), fc.integer({ min: 1, max: 1e6 }), (pairs, weight) => {
        const sums = Float64Array.from(pairs, ([sum]) => sum);
        const values = Float32Array.from(pairs, ([, value]) => value);
        const next = new Float64Array(pairs.length);
        expect(addScaled(sums, values, weight, next)).toBe(true);
        expect(next).toEqual(Float64Array.from(pairs, ([sum], i) => sum + weight * values[i]));
        expect(sums).toEqual(Float64Array.from(pairs, ([sum]) => sum));
      }),
      { numRuns: 200, seed: 21 },
    );
  });

  it('reports a NaN or ±Infinity at any position of any length', () => {
    for (let length = 1; length <= 9; length++) {
      for (let index = 0; index < length; index++) {
        for (const bad of [NaN, Infinity, -Infinity]) {
          const values = new Float32Array(length).fill(0.5);
          values[index] = bad;
          expect(addScaled(new Float64Array(length), values, 2, new Float64Array(length))).toBe(false);
        }
      }
    }
  });
});
