import { noiseMultiplierFor } from './calibrate-noise';
import { RdpAccountant } from './rdp-accountant';

const epsilonAt = (noiseMultiplier: number, samplingRate: number, steps: number, delta: number) =>
  new RdpAccountant().compose({ samplingRate, noiseMultiplier, steps }).epsilon(delta);

describe('noiseMultiplierFor', () => {
  it.each([
    { targetEpsilon: 8, samplingRate: 0.01, steps: 1000, delta: 1e-5 },
    { targetEpsilon: 2, samplingRate: 0.1, steps: 30, delta: 1e-5 },
    { targetEpsilon: 0.5, samplingRate: 1, steps: 1, delta: 1e-6 },
    { targetEpsilon: 4, samplingRate: 0.16, steps: 300, delta: 1e-5 },
  ])('returns the smallest σ within $targetEpsilon at q $samplingRate over $steps steps', (c) => {
    const sigma = noiseMultiplierFor(c);
    expect(epsilonAt(sigma, c.samplingRate, c.steps, c.delta)).toBeLessThanOrEqual(c.targetEpsilon);
    // 1e-4 relative precision: a σ 0.1 % smaller already overspends.
    expect(epsilonAt(sigma * 0.999, c.samplingRate, c.steps, c.delta)).toBeGreaterThan(c.targetEpsilon);
  });

  it('asks for more noise for a smaller epsilon, more steps or a larger sampling rate', () => {
    const base = { targetEpsilon: 4, samplingRate: 0.05, steps: 200, delta: 1e-5 };
    const sigma = noiseMultiplierFor(base);
    expect(noiseMultiplierFor({ ...base, targetEpsilon: 2 })).toBeGreaterThan(sigma);
    expect(noiseMultiplierFor({ ...base, steps: 400 })).toBeGreaterThan(sigma);
    expect(noiseMultiplierFor({ ...base, samplingRate: 0.1 })).toBeGreaterThan(sigma);
  });

  it.each([
    [{ targetEpsilon: 0 }, /target epsilon > 0/],
    [{ targetEpsilon: Infinity }, /target epsilon > 0/],
    [{ samplingRate: 0 }, /sampling rate in \(0, 1\]/],
    [{ steps: 1.5 }, /steps to be an integer/],
    [{ delta: 0 }, /delta in \(0, 1\)/],
    [{ targetEpsilon: 1e-9, steps: 1000000, samplingRate: 1 }, /no noise multiplier up to 1e6/],
  ])('refuses %j', (override, message) => {
    expect(() => noiseMultiplierFor({ targetEpsilon: 2, samplingRate: 0.1, steps: 10, delta: 1e-5, ...override })).toThrow(message);
  });
});
