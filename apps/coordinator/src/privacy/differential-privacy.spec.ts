import { PrivacyLedger, type DpRandomness } from '@fedtl/privacy';
import { checkRoundBudget, planTerms, poissonSample, roundEvents } from './differential-privacy';

const ids = Array.from({ length: 1000 }, (_, i) => `client-${i}`);

describe('the coordinator side of differential privacy', () => {
  it('samples each eligible client independently with probability q, from node:crypto, keeping the order', () => {
    const sample = poissonSample(ids, 0.1);
    // Binomial(1000, 0.1): mean 100, sd 9.5; 6 sd either side.
    expect(sample.length).toBeGreaterThan(43);
    expect(sample.length).toBeLessThan(157);
    expect(sample).toEqual(ids.filter((id) => sample.includes(id)));
    expect(poissonSample(ids, 1)).toEqual(ids);
    const fixed: DpRandomness = { uniform: (() => { let k = 0; return () => (k++ % 2 === 0 ? 0.05 : 0.5); })(), gaussian: (n) => new Float64Array(n) };
    expect(poissonSample(['a', 'b', 'c', 'd'], 0.1, fixed)).toEqual(['a', 'c']);
  });

  it('puts the unit\'s terms in the plan', () => {
    expect(planTerms({ unit: 'record', clipNorm: 1, noiseMultiplier: 1.2 })).toEqual({ recordClipNorm: 1, recordNoiseMultiplier: 1.2 });
    expect(planTerms({ unit: 'client', clipNorm: 0.5, noiseMultiplier: 1, samplingRate: 0.1 })).toEqual({ updateClipNorm: 0.5 });
  });

  it('charges record-level DP-SGD per client at its own q and steps, and client-level DP-FedAvg once per round', () => {
    const training = { batchSize: 16, localEpochs: 3 };
    expect(roundEvents(7, { unit: 'record', clipNorm: 1, noiseMultiplier: 1.2 }, training, new Map([['a', 160], ['b', 8]]))).toEqual([
      { round: 7, unit: 'record', mechanism: 'poisson-sampled-gaussian', samplingRate: 0.1, noiseMultiplier: 1.2, steps: 30, subject: 'a' },
      { round: 7, unit: 'record', mechanism: 'poisson-sampled-gaussian', samplingRate: 1, noiseMultiplier: 1.2, steps: 3, subject: 'b' },
    ]);
    expect(roundEvents(2, { unit: 'client', clipNorm: 1, noiseMultiplier: 0.9, samplingRate: 0.1 }, training, new Map([['a', 160]]))).toEqual([
      { round: 2, unit: 'client', mechanism: 'poisson-sampled-gaussian', samplingRate: 0.1, noiseMultiplier: 0.9, steps: 1 },
    ]);
  });

  it('refuses a round over the budget with the budget, what is spent and what the round would bring', () => {
    const mechanism = { unit: 'client' as const, clipNorm: 1, noiseMultiplier: 1, samplingRate: 1 };
    const ledger = new PrivacyLedger(roundEvents(1, mechanism, { batchSize: 1, localEpochs: 1 }, new Map()));
    const next = roundEvents(2, mechanism, { batchSize: 1, localEpochs: 1 }, new Map());
    const options = { mechanism, delta: 1e-5 };
    expect(() => checkRoundBudget(2, ledger, options, next)).not.toThrow();
    const now = ledger.spent(1e-5)[0].epsilon;
    expect(() => checkRoundBudget(2, ledger, { ...options, budget: { epsilon: now + 0.01, delta: 1e-5 } }, next)).toThrow(
      expect.objectContaining({
        code: 'FEDTL_ERR_PRIVACY_BUDGET',
        message: expect.stringMatching(new RegExp(`^round 2 would take the run to ε = \\S+ at δ = 0.00001 \\(client-level, 2 events\\), over its budget of ε = ${now + 0.01} .*spent so far: ε = ${now.toPrecision(4)} .*stops at round 1`)),
      }),
    );
  });
});
