import fc from 'fast-check';
import { decodeTensor, encodeTensor, topkCount, type NamedTensor } from '@fedtl/protocol';
import { ErrorFeedback } from './error-feedback';

const TOPK = { encoding: 'sparse', topkFraction: 0.1 } as const;

function tensors(values: Float32Array[], shapes = values.map((v) => [v.length])): NamedTensor[] {
  return values.map((data, i) => ({ name: `t${i}`, shape: shapes[i], dtype: 'float32', data }));
}

/** A round of deltas: two tensors of 40 and 7 values. */
const deltaRound = fc.tuple(
  fc.float32Array({ minLength: 40, maxLength: 40, noDefaultInfinity: true, noNaN: true, min: -10, max: 10 }),
  fc.float32Array({ minLength: 7, maxLength: 7, noDefaultInfinity: true, noNaN: true, min: -10, max: 10 }),
);

describe('error feedback for top-k (Stich et al. 2018)', () => {
  it('loses nothing: the sum of what was sent over the rounds plus the final residual is the sum of the deltas (fast-check)', () => {
    fc.assert(
      fc.property(fc.array(deltaRound, { minLength: 1, maxLength: 4 }), (rounds) => {
        const feedback = new ErrorFeedback();
        const sumOfDeltas = [new Float64Array(40), new Float64Array(7)];
        const sumSent = [new Float64Array(40), new Float64Array(7)];
        let residual: Map<string, Float32Array> | undefined;
        for (const round of rounds) {
          const compressed = feedback.compress(tensors(round), TOPK);
          // What leaves is exactly what the coordinator decodes, and at most k values a tensor.
          compressed.delta.forEach((tensor, t) => {
            // (== rather than Object.is: a value float16 rounds to −0 is not listed again, and decodes as +0.)
            const decoded = decodeTensor(encodeTensor(tensor, 'sparse')).data;
            expect(decoded.every((v, i) => v === tensor.data[i])).toBe(true);
            expect(tensor.data.filter((v) => v !== 0).length).toBeLessThanOrEqual(topkCount(tensor.data.length, TOPK.topkFraction));
            round[t].forEach((v, i) => (sumOfDeltas[t][i] += v));
            tensor.data.forEach((v, i) => (sumSent[t][i] += v));
          });
          feedback.commit(compressed);
          residual = compressed.residual;
        }
        // float32 rounding of each round's sums: a few ulps of the largest running magnitude (≤ 4 × 10 + residual).
        let largestError = 0;
        sumOfDeltas.forEach((sum, t) => {
          const left = residual?.get(`t${t}`) as Float32Array;
          sum.forEach((value, i) => (largestError = Math.max(largestError, Math.abs(sumSent[t][i] + left[i] - value))));
        });
        expect(largestError).toBeLessThanOrEqual(1e-4);
      }),
      { numRuns: 40 },
    );
  });

  it('sends the largest entries of delta + residual, so a value left out once is sent once it has built up', () => {
    const feedback = new ErrorFeedback();
    // Ten values, k = 1 a round.
    const delta = Float32Array.of(1, 0.6, 0, 0, 0, 0, 0, 0, 0, 0);
    const first = feedback.compress(tensors([delta]), TOPK);
    expect(Array.from(first.delta[0].data)).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(first.carried).toBe(false);
    feedback.commit(first);
    const second = feedback.compress(tensors([delta]), TOPK);
    // Position 1 now holds 0.6 + 0.6 = 1.2, above position 0's 1: it is sent, and position 0 waits.
    expect(second.carried).toBe(true);
    expect(Array.from(second.delta[0].data, (v) => Math.fround(v))).toEqual([0, 1.2001953125, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(second.residual?.get('t0') ?? [])).toEqual([1, Math.fround(Math.fround(1.2) - 1.2001953125), 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('keeps the old residual until commit: an update the coordinator refused sent nothing', () => {
    const feedback = new ErrorFeedback();
    const delta = tensors([Float32Array.of(4, 3, 2, 1)]);
    feedback.commit(feedback.compress(delta, TOPK));
    const before = feedback.residualNorm;
    expect(before).toBeCloseTo(Math.hypot(3, 2, 1), 5);
    feedback.compress(delta, TOPK);
    expect(feedback.residualNorm).toBe(before);
  });

  it('starts over when the tensor layout changes or the run does (reset)', () => {
    const feedback = new ErrorFeedback();
    feedback.commit(feedback.compress(tensors([Float32Array.of(4, 3, 2, 1)]), TOPK));
    const reshaped = feedback.compress(tensors([Float32Array.of(4, 3, 2, 1)], [[2, 2]]), TOPK);
    expect(reshaped.carried).toBe(false);
    expect(Array.from(reshaped.residual?.get('t0') ?? [])).toEqual([0, 3, 2, 1]);
    feedback.reset();
    expect(feedback.residualNorm).toBe(0);
    expect(feedback.compress(tensors([Float32Array.of(4, 3, 2, 1)]), TOPK).carried).toBe(false);
  });

  it('holds each round\'s sent part to the plan\'s update clip norm (client-level DP) and keeps the excess', () => {
    const feedback = new ErrorFeedback();
    const delta = tensors([Float32Array.from({ length: 20 }, (_, i) => (i < 2 ? 3 : 0.1))]);
    for (let round = 0; round < 4; round++) {
      const compressed = feedback.compress(delta, TOPK, 1);
      const norm = Math.hypot(...compressed.delta[0].data);
      expect(norm).toBeLessThanOrEqual(1);
      expect(compressed.clipped).toBe(true);
      feedback.commit(compressed);
    }
    // The excess over the clip norm was not dropped: it waits in the residual.
    expect(feedback.residualNorm).toBeGreaterThan(4 * Math.hypot(3, 3) - 4 * 1 - 1e-3 - 1);
  });

  it('can exceed a tiny clip norm after float16 rounding, by at most 2^-25·√k (so the coordinator clips again)', () => {
    // Four equal magnitudes clipped to S / (1 + 2^-11) are about 0.8 · 2^-24 each, below float16's normal range:
    // each rounds up to 2^-24, so the sent norm is 2 · 2^-24 > S.
    const clipNorm = 1.6 * 2 ** -24;
    const values = [Float32Array.of(1, 1), Float32Array.of(-1, 1)];
    const compressed = new ErrorFeedback().compress(tensors(values), { encoding: 'sparse', topkFraction: 1 }, clipNorm);
    const sent = compressed.delta.flatMap((tensor) => Array.from(tensor.data));
    const kept = sent.filter((value) => value !== 0).length;
    const norm = Math.hypot(...sent);
    expect(compressed.clipped).toBe(true);
    expect(norm).toBeGreaterThan(clipNorm);
    expect(norm).toBeLessThanOrEqual(clipNorm + 2 ** -25 * Math.sqrt(kept));
  });

  it('passes other compressions through untouched, with no residual', () => {
    const feedback = new ErrorFeedback();
    const delta = tensors([Float32Array.of(1, 2)]);
    for (const compression of [undefined, { encoding: 'raw' }, { encoding: 'float16' }, { encoding: 'int8' }] as const) {
      const compressed = feedback.compress(delta, compression);
      expect(compressed.delta[0].data).toBe(delta[0].data);
      expect(compressed.residual).toBeUndefined();
      expect(compressed.encoding).toBe(compression?.encoding ?? 'raw');
    }
  });
});
