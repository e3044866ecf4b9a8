import { cryptoRandomness } from './crypto-randomness';

describe('cryptoRandomness', () => {
  it('gives uniforms in [0, 1) and standard normals (mean ≈ 0, variance ≈ 1 over 200,000 draws)', () => {
    const source = cryptoRandomness();
    const uniforms = Array.from({ length: 10_000 }, () => source.uniform());
    expect(Math.min(...uniforms)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...uniforms)).toBeLessThan(1);
    const normals = source.gaussian(200_001);
    const mean = normals.reduce((s, v) => s + v, 0) / normals.length;
    const variance = normals.reduce((s, v) => s + (v - mean) ** 2, 0) / (normals.length - 1);
    // Standard errors: mean 1/√n ≈ 0.0022, variance √(2/n) ≈ 0.0032; 6 of them is a one-in-a-billion failure.
    expect(Math.abs(mean)).toBeLessThan(0.014);
    expect(Math.abs(variance - 1)).toBeLessThan(0.02);
  });
});
