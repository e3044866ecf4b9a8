// The accountant against the reference values in dp_accounting's own test file:
// github.com/google/differential-privacy, python/dp_accounting/dp_accounting/rdp/rdp_privacy_accountant_test.py,
// commit b5b0286e313b64a692abfc8c528d54ef47d960a0 (test names quoted in each case). Those tests allow rtol 1e-4 or
// 7 decimal places; this port is held to 1e-6 relative.
import { DEFAULT_RDP_ORDERS, RdpAccountant, deltaFromRdp, epsilonFromRdp, sampledGaussianRdp } from './rdp-accountant';

/** |actual − expected| ≤ 1e-6·|expected| (exact equality for infinities). */
function expectRelative(actual: number, expected: number, tolerance = 1e-6): void {
  if (!Number.isFinite(expected)) {
    expect(actual).toBe(expected);
    return;
  }
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(tolerance * Math.abs(expected));
}

describe('RDP of the Poisson-sampled Gaussian mechanism', () => {
  it('reproduces test_compute_rdp_poisson_sampled_gaussian (q 0.01, σ 2.5, 50 steps, integer, fractional and infinite orders)', () => {
    const orders = [1.5, 2.5, 5, 50, 100, Infinity];
    const accountant = new RdpAccountant(orders).compose({ samplingRate: 0.01, noiseMultiplier: 2.5, steps: 50 });
    const expected = [6.70579741e-4, 1.0854871e-3, 2.18075656e-3, 2.38460375e-2, 1.67416308e2, Infinity];
    // The reference values carry 9 significant digits.
    accountant.rdp.forEach((value, i) => expectRelative(value, expected[i], 1e-6));
  });

  it('is α / (2σ²) without sampling (test_compute_rdp_gaussian) and 0 without any sampled record', () => {
    expect(sampledGaussianRdp(1, 2, [2, 7.5])).toEqual([2 / 8, 7.5 / 8]);
    expect(sampledGaussianRdp(0, 0.5, [2, 100])).toEqual([0, 0]);
    expect(sampledGaussianRdp(0.3, 0, [2])).toEqual([Infinity]);
  });

  it('refuses what is not a mechanism, naming the value', () => {
    expect(() => sampledGaussianRdp(1.5, 1, [2])).toThrow('expected a sampling rate in [0, 1], got 1.5');
    expect(() => sampledGaussianRdp(0.1, -1, [2])).toThrow('expected a finite noise multiplier ≥ 0, got -1');
    expect(() => sampledGaussianRdp(0.1, 1, [0.5])).toThrow('expected Rényi orders ≥ 1, got 0.5');
    expect(() => new RdpAccountant([2]).compose({ samplingRate: 0.1, noiseMultiplier: 1, steps: 1.5 })).toThrow('expected steps to be an integer ≥ 0, got 1.5');
  });
});

describe('conversion to (ε, δ)', () => {
  it('reproduces test_compute_epsilon_delta_pure_dp (constant RDP 1.1 at orders 2 … 32, δ 1e-5)', () => {
    const orders = Array.from({ length: 31 }, (_, i) => i + 2);
    const rdp = orders.map(() => 1.1);
    const { epsilon, order } = epsilonFromRdp(orders, rdp, 1e-5);
    expectRelative(epsilon, 1.32783806176);
    expect(order).toBe(32);
    const back = deltaFromRdp(orders, rdp, 1.32783806176);
    expectRelative(back.delta, 1e-5);
    expect(back.order).toBe(32);
  });

  it('reproduces test_compute_epsilon_delta_gaussian (q 1, σ 4.530877117 is exactly (1, 1e-6)-DP over orders 1 … 99.999)', () => {
    const orders = Array.from({ length: 99_000 }, (_, i) => 0.001 * (i + 1000));
    const rdp = sampledGaussianRdp(1, 4.530877117, orders);
    expectRelative(epsilonFromRdp(orders, rdp, 1e-6).epsilon, 1);
    expectRelative(deltaFromRdp(orders, rdp, 1).delta, 1e-6);
  });

  it('gives ε = 0 when nothing was spent, ε = ∞ for δ = 0 after a spend, and δ(ε(δ)) = δ (test_epsilon_delta_consistency)', () => {
    expect(new RdpAccountant().epsilon(1e-5)).toBe(0);
    const orders = Array.from({ length: 48 }, (_, i) => i + 2);
    for (const q of [0.01, 0.1, 0.8, 1]) {
      for (const sigma of [1, 10, 100]) {
        const accountant = new RdpAccountant(orders).compose({ samplingRate: q, noiseMultiplier: sigma, steps: 1 });
        expect(accountant.epsilon(0)).toBe(Infinity);
        for (const delta of [0.1, 1e-3, 1e-5, 1e-9]) {
          const epsilon = accountant.epsilon(delta);
          if (epsilon === 0) expect(accountant.delta(epsilon)).toBeLessThanOrEqual(delta);
          else expectRelative(accountant.delta(epsilon), delta, 1e-6);
        }
      }
    }
  });

  it('composes by addition: 6 steps at once cost what 6 single steps cost (test_rdp_composition)', () => {
    const event = { samplingRate: 0.05, noiseMultiplier: 1.1, steps: 1 };
    const once = new RdpAccountant().compose({ ...event, steps: 6 });
    const sixTimes = new RdpAccountant();
    for (let i = 0; i < 6; i++) sixTimes.compose(event);
    once.rdp.forEach((value, i) => expectRelative(sixTimes.rdp[i], value, 1e-12));
    expect(DEFAULT_RDP_ORDERS).toHaveLength(99 + 53 + 4);
    // More steps or less noise never cost less.
    expect(new RdpAccountant().compose({ ...event, steps: 100 }).epsilon(1e-5)).toBeGreaterThan(once.epsilon(1e-5));
  });
});

describe('sampledGaussianRdp at the default orders', () => {
  it('remembers a curve without letting a caller change what it remembers', () => {
    const first = sampledGaussianRdp(0.01, 1.1, DEFAULT_RDP_ORDERS);
    const copy = first.slice();
    first.fill(0);
    expect(sampledGaussianRdp(0.01, 1.1, DEFAULT_RDP_ORDERS)).toEqual(copy);
    expect(sampledGaussianRdp(0.01, 1.1, [...DEFAULT_RDP_ORDERS])).toEqual(copy);
  });
});
