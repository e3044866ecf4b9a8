import { honestUpdate } from './observed-update';
import { row, syntheticExamples } from './attack-fixtures';
import { imprintRecovery, imprintTrapWeights } from './imprint-trap';
import { cosine } from './recovery-metrics';

const SPEC = { inputDim: 16, adapterWidth: 32, head: 'linear' as const, headHidden: 4, labels: ['a', 'b', 'c'] };

describe('imprint trap (Robbing the Fed)', () => {
  it('recovers, from one SGD step on a batch of 4, every example that sits alone in a bin, to cosine > 0.999', async () => {
    const publicData = syntheticExamples(400, SPEC.inputDim, 70);
    const publicFeatures = Array.from({ length: publicData.n }, (_, i) => row(publicData, i, SPEC.inputDim));
    const global = imprintTrapWeights(SPEC, publicFeatures, 1);
    const data = syntheticExamples(4, SPEC.inputDim, 71);
    const observed = await honestUpdate(SPEC, global, data, { localEpochs: 1, batchSize: 4, learningRate: 0.01, optimizer: 'sgd', seed: 2 });
    const { vectors } = await imprintRecovery.recover(observed);
    const truth = Array.from({ length: 4 }, (_, i) => row(data, i, SPEC.inputDim));
    const recovered = truth.filter((x) => vectors.some((v) => cosine(v, x) > 0.999));
    // 4 examples in 33 bins: with this seed at least 3 land alone.
    expect(recovered.length).toBeGreaterThanOrEqual(3);
  });

  it('refuses a model without an adapter or too few public vectors', () => {
    expect(() => imprintTrapWeights({ ...SPEC, adapterWidth: 0 }, [], 1)).toThrow(/expected an adapter of width ≥ 2, got 0/);
    expect(() => imprintTrapWeights(SPEC, [new Float32Array(16)], 1)).toThrow(/expected at least 2 public feature vectors, got 1/);
  });
});
