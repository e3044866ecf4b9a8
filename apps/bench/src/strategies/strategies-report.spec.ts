import { checkTargets, seedRun, summarizeRow, type SeedRun } from './strategies-report';

const traffic = { bytesUp: 1000, bytesDown: 4000, seconds: 10 };
const run = (seed: number, books: number, dvd: number): SeedRun => seedRun(seed, { books, dvd }, 'books', traffic);

describe('summarizeRow', () => {
  it('averages each domain, the mean and the honest mean over seeds', () => {
    const row = summarizeRow('median', true, [run(1, 0.6, 0.8), run(2, 0.7, 0.9)]);
    expect(row.runs[0]).toMatchObject({ mean: 0.7, honestMean: 0.8 });
    expect(row.mean.mean).toBeCloseTo(0.75, 12);
    expect(row.mean.std).toBeCloseTo(Math.SQRT1_2 * 0.1, 12);
    expect(row.honestMean.mean).toBeCloseTo(0.85, 12);
    expect(row.perDomain.books.mean).toBeCloseTo(0.65, 12);
    expect(row.perDomain.dvd.mean).toBeCloseTo(0.85, 12);
    expect(row).toMatchObject({ strategy: 'median', attacked: true, bytesUp: 1000, bytesDown: 4000, seconds: 10 });
    expect(() => summarizeRow('krum', false, [])).toThrow('krum: expected at least one run, got none');
  });
});

describe('checkTargets', () => {
  const row = (strategy: 'fedavg' | 'median' | 'krum', attacked: boolean, accuracy: number) => summarizeRow(strategy, attacked, [run(1, accuracy, accuracy)]);

  it('checks each robust strategy against fedavg and against itself, and fedavg’s drop under attack', () => {
    const checks = checkTargets([row('fedavg', false, 0.72), row('median', false, 0.715), row('krum', false, 0.7), row('fedavg', true, 0.6), row('median', true, 0.69), row('krum', true, 0.69)]);
    const summary = checks.map((c) => [c.strategy, c.target.split(':')[0], Number(c.points.toFixed(2)), c.met]);
    expect(summary).toEqual([
      ['median', 'no attacker', -0.5, true],
      ['median', 'under attack', -2.5, false],
      ['krum', 'no attacker', -2, false],
      ['krum', 'under attack', -1, true],
      ['fedavg', 'under attack', -12, true],
    ]);
  });

  it('checks only what the rows allow', () => {
    expect(checkTargets([row('median', false, 0.7)])).toEqual([]);
    expect(checkTargets([row('fedavg', false, 0.72), row('fedavg', true, 0.7)])).toEqual([
      { strategy: 'fedavg', target: 'under attack: drops by more than 5 points', points: expect.closeTo(-2, 9), met: false },
    ]);
  });
});
