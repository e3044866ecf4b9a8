import { pairedDifference, spreadOf, summarise, type FederationOutcome, type SeedRuns } from './cross-task-report';

/** An outcome whose two domains score `a` and `b` (macro-F1 10 points lower). */
function outcome(a: number, b: number): FederationOutcome {
  return {
    perDomain: { x: { accuracy: a, macroF1: a - 0.1 }, y: { accuracy: b, macroF1: b - 0.1 } },
    accuracy: (a + b) / 2,
    macroF1: (a + b) / 2 - 0.1,
    curve: [0.3, (a + b) / 2],
    seconds: 1,
  };
}

describe('spread over seeds', () => {
  it('is the mean and the sample standard deviation (n − 1), as numpy.std(ddof=1) gives', () => {
    // numpy: np.mean([1,2,3,4]) = 2.5, np.std([1,2,3,4], ddof=1) = 1.2909944487358056
    const spread = spreadOf([1, 2, 3, 4]);
    expect(spread.mean).toBe(2.5);
    expect(spread.sd).toBeCloseTo(1.2909944487358056, 15);
    expect(spread.values).toEqual([1, 2, 3, 4]);
  });

  it('has no sd for one seed and no mean for none', () => {
    expect(spreadOf([0.4])).toEqual({ mean: 0.4, sd: NaN, values: [0.4] });
    expect(spreadOf([])).toEqual({ mean: NaN, sd: NaN, values: [] });
  });

  it('pairs differences by seed: the sd is that of the differences, not of either side', () => {
    // Both sides vary by 20 points across seeds, their difference by only 5.
    const difference = pairedDifference([0.5, 0.7, 0.6], [0.45, 0.6, 0.55]);
    expect(difference.values.map((v) => +v.toFixed(12))).toEqual([0.05, 0.1, 0.05]);
    expect(difference.mean).toBeCloseTo(0.2 / 3, 12);
    // sample sd of [0.05, 0.1, 0.05] = sqrt(((−1/60)² · 2 + (1/30)²) / 2) = 0.028867513459481284
    expect(difference.sd).toBeCloseTo(0.028867513459481284, 12);
    expect(() => pairedDifference([1, 2], [1])).toThrow('pairedDifference: expected one value per seed on both sides, got 2 and 1');
  });
});

describe('summarise', () => {
  const perSeed: SeedRuns[] = [
    { seed: 1, source: outcome(0.8, 0.7), targets: { '20': { 'init-from': outcome(0.5, 0.4), scratch: outcome(0.4, 0.4) } } },
    { seed: 2, source: outcome(0.9, 0.8), targets: { '20': { 'init-from': outcome(0.4, 0.4), scratch: outcome(0.45, 0.45) } } },
  ];
  const summary = summarise(perSeed, ['x', 'y'], [20]);

  it('gives one row per budget and init, in the order init-from, scratch, with per-domain spreads and the mean curve', () => {
    expect(summary.rows.map((r) => [r.labelsPerClient, r.init])).toEqual([[20, 'init-from'], [20, 'scratch']]);
    const [initFrom, scratch] = summary.rows;
    expect(initFrom.accuracy.values).toEqual([0.45, 0.4]);
    expect(initFrom.perDomain.x.values).toEqual([0.5, 0.4]);
    expect(initFrom.macroF1.mean).toBeCloseTo(0.325, 12);
    expect(scratch.accuracy.mean).toBeCloseTo(0.425, 12);
    expect(initFrom.curve.map((v) => +v.toFixed(12))).toEqual([0.3, 0.425]);
  });

  it('pairs init-from with scratch by seed and counts the seeds where init-from is better', () => {
    const [difference] = summary.differences;
    expect(difference.accuracy.values.map((v) => +v.toFixed(12))).toEqual([0.05, -0.05]);
    expect(difference.accuracy.mean).toBeCloseTo(0, 12);
    expect(difference.initFromBetterIn).toBe(1);
  });

  it('summarises the source federation', () => {
    expect(summary.source.accuracy.values.map((v) => +v.toFixed(12))).toEqual([0.75, 0.85]);
    expect(summary.source.perDomain.y.values).toEqual([0.7, 0.8]);
  });
});
