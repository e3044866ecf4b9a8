// The randomness differential privacy rests on: which records (or clients) a step samples and the noise it adds.
// Both must be secret from whoever sees the result, so they come from the operating system's cryptographic
// generator (node:crypto), never from a run's seed. Tests inject their own source through the interfaces.
import { randomFillSync } from 'node:crypto';

/** Standard normal numbers. */
export interface GaussianSource {
  /** `count` independent N(0, 1) numbers. */
  gaussian(count: number): Float64Array;
}

/** Uniform and standard normal numbers. */
export interface DpRandomness extends GaussianSource {
  /** A uniform number in [0, 1). */
  uniform(): number;
}

/**
 * Doubles in [0, 1) with 53 random bits each, and Box–Muller normals, from node:crypto's generator. Known limit: a
 * floating-point Gaussian, not a floating-point-safe sampler (Mironov, CCS 2012; the discrete Gaussian of
 * Canonne, Kamath, Steinke 2020).
 */
export function cryptoRandomness(): DpRandomness {
  const words = new Uint32Array(2048);
  let next = words.length;
  const word = (): number => {
    if (next === words.length) {
      randomFillSync(words);
      next = 0;
    }
    return words[next++];
  };
  return gaussianFrom(() => ((word() >>> 5) * 67108864 + (word() >>> 6)) / 9007199254740992);
}

/**
 * A DpRandomness over any source of uniforms in [0, 1): the uniforms themselves and Box–Muller normals from them.
 * Production uses cryptoRandomness(); a seeded source is for tests and repeatable audits only.
 */
export function gaussianFrom(uniform: () => number): DpRandomness {
  return {
    uniform,
    gaussian(count) {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i += 2) {
        const radius = Math.sqrt(-2 * Math.log(1 - uniform()));
        const angle = 2 * Math.PI * uniform();
        out[i] = radius * Math.cos(angle);
        if (i + 1 < count) out[i + 1] = radius * Math.sin(angle);
      }
      return out;
    },
  };
}
