import { cosine, meanAndSd, scoreRecovery, signAgreement } from './recovery-metrics';

const v = (...values: number[]) => Float32Array.from(values);

describe('recovery metrics', () => {
  it('cosine and sign agreement of small vectors', () => {
    expect(cosine(v(1, 0), v(0, 1))).toBe(0);
    expect(cosine(v(1, 1), v(2, 2))).toBeCloseTo(1, 12);
    expect(cosine(v(0, 0), v(1, 1))).toBe(0);
    expect(signAgreement(v(1, -1, 2, 0), v(3, -2, -1, 0))).toBe(0.75);
  });

  it('counts a true text picked by some guess, and gives chance for as many blind picks', () => {
    const truth = [v(1, 0, 0), v(0, 1, 0)];
    const others = [v(0, 0, 1), v(1, 1, 1)];
    const score = scoreRecovery([v(0.9, 0.1, 0), v(0, 0, 2)], truth, others);
    expect(score.top1).toBe(0.5);
    expect(score.poolSize).toBe(4);
    expect(score.chance).toBeCloseTo(1 - 0.75 ** 2, 12);
    expect(score.cosine).toBeCloseTo((cosine(v(0.9, 0.1, 0), v(1, 0, 0)) + 0) / 2, 6);
  });

  it('without guesses (nothing received) reports no cosine and the chance of one blind pick', () => {
    expect(scoreRecovery([], [v(1)], [v(2), v(3), v(4)])).toEqual({ cosine: null, top1: 0.25, chance: 0.25, poolSize: 4, guesses: 0 });
  });

  it('a guess that does not discriminate (a tie) never counts as a hit', () => {
    expect(scoreRecovery([v(1, 1)], [v(1, 1)], [v(2, 2)]).top1).toBe(0);
  });

  it('mean and sample standard deviation', () => {
    expect(meanAndSd([1, 3])).toEqual({ mean: 2, sd: Math.SQRT2 });
    expect(meanAndSd([5])).toEqual({ mean: 5, sd: 0 });
    expect(meanAndSd([])).toBeNull();
  });
});
