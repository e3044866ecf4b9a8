import type { RoundRecord } from './federation-run';
import { compareSecAgg, runCost } from './secagg-comparison';

const record = (round: number, accuracies: Record<string, number>, bytesUp = 100, seconds = 1): RoundRecord => ({
  round,
  status: 'aggregated',
  clients: Object.fromEntries(Object.entries(accuracies).map(([domain, accuracy]) => [domain, { accuracy }])),
  bytesUp,
  bytesDown: 2 * bytesUp,
  seconds,
});

const EXAMPLES = { books: 400, dvd: 200 };

describe('compareSecAgg', () => {
  it('is 0 when every domain has the same accuracy after every round, and gives each run’s cost per round', () => {
    const plain = [record(1, { books: 0.5, dvd: 0.6 }, 100, 1), record(2, { books: 0.7, dvd: 0.8 }, 100, 3)];
    const secure = [record(1, { books: 0.5, dvd: 0.6 }, 110, 2), record(2, { books: 0.7, dvd: 0.8 }, 130, 4)];
    const c = compareSecAgg(plain, secure, ['books', 'dvd'], EXAMPLES, 1e-6);
    expect(c).toEqual({
      comparedWith: 'fedavg',
      rounds: 2,
      domains: 2,
      maxAccuracyDifference: 0,
      maxDifferenceInExamples: 0,
      maxWeightDifference: 1e-6,
      plain: { bytesUp: 100, bytesDown: 200, secondsPerRound: 2 },
      secure: { bytesUp: 120, bytesDown: 240, secondsPerRound: 3 },
    });
  });

  it('finds the largest difference over domains and rounds, in accuracy and in test examples of its domain', () => {
    const plain = [record(1, { books: 0.5, dvd: 0.6 }), record(2, { books: 0.7, dvd: 0.8 })];
    // books round 2: one example of 400 (0.0025); dvd round 1: one example of 200 (0.005).
    const secure = [record(1, { books: 0.5, dvd: 0.605 }), record(2, { books: 0.7025, dvd: 0.8 })];
    const c = compareSecAgg(plain, secure, ['books', 'dvd'], EXAMPLES, 0);
    expect(c.maxAccuracyDifference).toBeCloseTo(0.005, 12);
    expect(c.maxDifferenceInExamples).toBe(1);
    expect(c.worst).toEqual({ domain: 'dvd', round: 1 });
  });

  it('matches rounds by number (a retried round leaves no gap) and calls runs that differ in rounds incomparable', () => {
    const plain = [record(1, { books: 0.5 }), record(2, { books: 0.7 })];
    expect(compareSecAgg(plain, [record(2, { books: 0.7 }), record(1, { books: 0.5 })], ['books'], EXAMPLES, 0).maxAccuracyDifference).toBe(0);
    const short = compareSecAgg(plain, [record(1, { books: 0.5 })], ['books'], EXAMPLES, 0);
    expect(short.maxAccuracyDifference).toBe(Infinity);
    expect(short.maxDifferenceInExamples).toBe(Infinity);
    expect(short.worst).toEqual({ domain: 'books', round: 2 });
    expect(compareSecAgg(plain, plain, ['books', 'dvd'], EXAMPLES, 0).maxAccuracyDifference).toBe(Infinity);
  });
});

describe('runCost', () => {
  it('averages bytes and seconds over the rounds', () => {
    expect(runCost([record(1, {}, 10, 1), record(2, {}, 30, 2)])).toEqual({ bytesUp: 20, bytesDown: 40, secondsPerRound: 1.5 });
  });
});
