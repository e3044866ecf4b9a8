import { analyticInversion, leastSquaresInput } from './analytic-inversion';
import { TINY_SPEC, row, syntheticExamples, tinyUpdate } from './attack-fixtures';
import { cosine } from './recovery-metrics';

describe('analytic inversion of the first dense layer', () => {
  it('gives x exactly from a rank-one update x·δᵀ, whatever δ', () => {
    const x = [0.5, -1, 2];
    const delta = [0.3, -0.1];
    const kernel = Float32Array.from(x.flatMap((xi) => delta.map((d) => xi * d)));
    const recovered = leastSquaresInput({ layer: 'head/out', inputDim: 3, units: 2, kernel, bias: Float32Array.from(delta) });
    x.forEach((xi, i) => expect(recovered[i]).toBeCloseTo(xi, 6));
  });

  it('recovers the one example of a plain SGD step (batch 1) through the project’s training to cosine > 0.999', async () => {
    const data = syntheticExamples(1, TINY_SPEC.inputDim, 11);
    const observed = await tinyUpdate(data, { localEpochs: 1, batchSize: 1, learningRate: 0.01, optimizer: 'sgd' });
    const result = await analyticInversion.recover(observed);
    expect(result.detail.layer).toBe('head/out');
    expect(result.vectors).toHaveLength(1);
    expect(cosine(result.vectors[0], row(data, 0, TINY_SPEC.inputDim))).toBeGreaterThan(0.999);
  });

  it('uses the adapter’s down-projection once it moved, and returns one vector per moved unit for several examples', async () => {
    const data = syntheticExamples(6, TINY_SPEC.inputDim, 12);
    const observed = await tinyUpdate(data, { localEpochs: 3, batchSize: 2, learningRate: 0.01, optimizer: 'sgd' });
    const result = await analyticInversion.recover(observed);
    expect(result.detail.layer).toBe('adapter/down');
    expect(result.vectors.length).toBeGreaterThan(0);
    expect(result.vectors.length).toBeLessThanOrEqual(TINY_SPEC.adapterWidth);
  });
});
