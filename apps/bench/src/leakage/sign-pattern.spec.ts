import { TINY_SPEC, row, syntheticExamples, tinyUpdate } from './attack-fixtures';
import { signAgreement } from './recovery-metrics';
import { signPatternAttack } from './sign-pattern';

describe('sign-pattern attack', () => {
  it('recovers the sign of every feature from one Adam step on one example', async () => {
    const data = syntheticExamples(1, TINY_SPEC.inputDim, 21);
    const observed = await tinyUpdate(data, { localEpochs: 1, batchSize: 1, learningRate: 0.001, optimizer: 'adam' });
    const result = await signPatternAttack().recover(observed);
    expect(result.rankBy).toBe('sign-agreement');
    expect(Array.from(result.vectors[0])).toEqual(Array.from(row(data, 0, TINY_SPEC.inputDim), Math.sign));
  });

  it('still agrees on most signs after three Adam epochs, and scales the pattern by the prior', async () => {
    const data = syntheticExamples(1, TINY_SPEC.inputDim, 22);
    const observed = await tinyUpdate(data, { localEpochs: 3, batchSize: 32, learningRate: 0.003, optimizer: 'adam' });
    const prior = new Float32Array(TINY_SPEC.inputDim).fill(0.5);
    const [guess] = (await signPatternAttack(prior).recover(observed)).vectors;
    expect(signAgreement(guess, row(data, 0, TINY_SPEC.inputDim))).toBeGreaterThan(0.9);
    expect(new Set(Array.from(guess, Math.abs))).toEqual(new Set([0.5]));
  });
});
