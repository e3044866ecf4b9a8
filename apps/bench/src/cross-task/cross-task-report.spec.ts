import { summarise, type FederationOutcome, type SeedRuns } from './cross-task-report';

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

describe('summarise', () => {
  const perSeed: SeedRuns[] = [
    { seed: 1, source: outcome(0.8, 0.7), targets: { '20': { 'init-from': outcome(0.5, 0.4), scratch: outcome(0.4, 0.4) } } },
    { seed: 2, source: outcome(0.9, 0.8), targets: { '20': { 'init-from': outcome(0.4, 0.4), scratch: outcome(0.45, 0.45) } } },
  ];
  const summary = summarise(perSeed, ['x', 'y'], [20]);

  it('gives one row per budget and init, in the order init-from, scratch, with per-domain spreads and the mean curve', () => {
    expect(summary.rows.map((r) => [r.labelsPerClient, r.init])).toEqual([[20, 'init-from'], [20, 'scratch']]);
    const [initFrom, scratch] = summary.rows;
    // init-from's mean accuracy is 0.45 at seed 1 and 0.4 at seed 2: mean 0.425, sample std 0.05 / √2.
    expect(initFrom.accuracy.mean).toBeCloseTo(0.425, 12);
    expect(initFrom.accuracy.std).toBeCloseTo(0.05 / Math.SQRT2, 12);
    expect(initFrom.accuracy.n).toBe(2);
    expect(initFrom.perDomain.x.mean).toBeCloseTo(0.45, 12);
    expect(initFrom.macroF1.mean).toBeCloseTo(0.325, 12);
    expect(scratch.accuracy.mean).toBeCloseTo(0.425, 12);
    expect(initFrom.curve.map((v) => +v.toFixed(12))).toEqual([0.3, 0.425]);
  });

  it('pairs init-from with scratch by seed and counts the seeds where init-from is better', () => {
    const [difference] = summary.differences;
    expect(difference.perSeed.map((v) => +v.toFixed(12))).toEqual([0.05, -0.05]);
    expect(difference.accuracy.mean).toBeCloseTo(0, 12);
    // Paired: the differences ±0.05 have std 0.1 / √2, whatever the two sides' own spreads.
    expect(difference.accuracy.std).toBeCloseTo(0.1 / Math.SQRT2, 12);
    expect(difference.initFromBetterIn).toBe(1);
  });

  it('summarises the source federation', () => {
    expect(summary.source.accuracy.mean).toBeCloseTo(0.8, 12);
    expect(summary.source.perDomain.y.mean).toBeCloseTo(0.75, 12);
  });
});
