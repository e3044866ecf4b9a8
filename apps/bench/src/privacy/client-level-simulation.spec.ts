import * as tf from '@tensorflow/tfjs-core';
import { initialWeights, selectBackend, type LabelledFeatures } from '@fedtl/model';
import { RdpAccountant } from '@fedtl/privacy';
import type { ModelSpec } from '@fedtl/protocol';
import { FedAdam, FedAvg } from '@fedtl/strategies';
import { seededRandom } from '@fedtl/util';
import { DOMAINS_DEFAULTS } from '../domains/domains-config';
import { simulateClientLevel, type SimulatedClient } from './client-level-simulation';

const spec: ModelSpec = { inputDim: 6, adapterWidth: 4, head: 'linear', headHidden: 4, labels: ['negative', 'positive'] };

/** Separable synthetic features: the label is the sign of the first coordinate. */
function clientData(n: number, seed: number): LabelledFeatures {
  const random = seededRandom(seed);
  const features = Float32Array.from({ length: n * spec.inputDim }, () => random() - 0.5);
  const labels = Int32Array.from({ length: n }, (_, i) => (features[i * spec.inputDim] > 0 ? 1 : 0));
  return { features, labels, n };
}

const clients: SimulatedClient[] = Array.from({ length: 8 }, (_, i) => ({ id: `client-${i}`, train: clientData(10, i + 1) }));
const run = { spec, initial: initialWeights(spec, 1), clients, training: DOMAINS_DEFAULTS.training, rounds: 3, samplingRate: 0.5, seed: 4 };

describe('simulateClientLevel', () => {
  beforeAll(async () => {
    await selectBackend();
  });

  it('without DP: samples clients by the seed, measures their update norms and spends nothing', async () => {
    const before = tf.memory().numTensors;
    const a = await simulateClientLevel({ ...run, strategy: new FedAvg() });
    const b = await simulateClientLevel({ ...run, strategy: new FedAvg() });
    expect(a.spentEpsilon).toBeNull();
    expect(a.clientRounds).toBe(b.clientRounds);
    expect(a.clientRounds).toBeGreaterThan(0);
    expect(a.updateNorms).toHaveLength(a.clientRounds);
    expect(a.updateNorms.every((norm) => norm > 0)).toBe(true);
    // Same seed, no noise: the same weights.
    expect(a.weights.map((t) => Array.from(t.data))).toEqual(b.weights.map((t) => Array.from(t.data)));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('with DP-FedAvg around FedAdam: the ledger’s ε is the accountant’s for rounds steps at (q, z)', async () => {
    const dp = { clipNorm: 0.1, noiseMultiplier: 1.5, delta: 1e-5 };
    const result = await simulateClientLevel({ ...run, strategy: new FedAdam({ serverLearningRate: 0.01, tau: 1e-3 }), dp });
    const expected = new RdpAccountant().compose({ samplingRate: 0.5, noiseMultiplier: 1.5, steps: 3 }).epsilon(1e-5);
    expect(result.spentEpsilon).toBeCloseTo(expected, 10);
    expect(result.weights.every((t) => Array.from(t.data).every(Number.isFinite))).toBe(true);
    // The server step moved the weights away from the start.
    const moved = result.weights.some((t, i) => Array.from(t.data).some((v, j) => v !== run.initial[i].data[j]));
    expect(moved).toBe(true);
  });
});
