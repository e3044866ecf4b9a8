import { RdpAccountant, noiseMultiplierFor } from '@fedtl/privacy';
import { clientLevelNoise, recordLevelNoise } from './dp-calibration';

const epsilonOf = (plan: { samplingRate: number; noiseMultiplier: number; steps: number }, delta: number) => new RdpAccountant().compose(plan).epsilon(delta);

describe('recordLevelNoise', () => {
  it('counts the steps as the client trains them: rounds × epochs × round(1/q), q = batch / n', () => {
    const run = { epsilon: 4, delta: 1e-5, batchSize: 16, localEpochs: 1, rounds: 20 };
    // 200 examples: q = 0.08, round(12.5) = 13 steps an epoch.
    expect(recordLevelNoise({ ...run, clientExamples: [200, 200] })).toEqual({
      samplingRate: 0.08,
      steps: 260,
      noiseMultiplier: noiseMultiplierFor({ targetEpsilon: 4, delta: 1e-5, samplingRate: 0.08, steps: 260 }),
    });
    const plan = recordLevelNoise({ ...run, localEpochs: 2, clientExamples: [1600] });
    expect(plan).toMatchObject({ samplingRate: 0.01, steps: 4000 });
  });

  it('gives a σ whose whole run stays within ε, and a 1 % smaller one that does not', () => {
    const plan = recordLevelNoise({ epsilon: 2, delta: 1e-5, batchSize: 16, localEpochs: 1, rounds: 20, clientExamples: [1600] });
    expect(epsilonOf(plan, 1e-5)).toBeLessThanOrEqual(2);
    expect(epsilonOf({ ...plan, noiseMultiplier: 0.99 * plan.noiseMultiplier }, 1e-5)).toBeGreaterThan(2);
  });

  it('takes the largest σ any client needs when the clients hold different numbers of examples', () => {
    const run = { epsilon: 8, delta: 1e-5, batchSize: 16, localEpochs: 1, rounds: 20 };
    const small = recordLevelNoise({ ...run, clientExamples: [200] });
    const large = recordLevelNoise({ ...run, clientExamples: [1600] });
    const both = recordLevelNoise({ ...run, clientExamples: [1600, 200, 1600] });
    expect(both.noiseMultiplier).toBe(Math.max(small.noiseMultiplier, large.noiseMultiplier));
    expect(() => recordLevelNoise({ ...run, clientExamples: [] })).toThrow(/at least one client/);
  });
});

describe('clientLevelNoise', () => {
  it('calibrates one step per round at the client-sampling rate', () => {
    const plan = clientLevelNoise({ epsilon: 8, delta: 1e-5, samplingRate: 0.1, rounds: 50 });
    expect(plan).toMatchObject({ samplingRate: 0.1, steps: 50 });
    expect(epsilonOf(plan, 1e-5)).toBeLessThanOrEqual(8);
    expect(epsilonOf({ ...plan, noiseMultiplier: 0.99 * plan.noiseMultiplier }, 1e-5)).toBeGreaterThan(8);
  });
});
