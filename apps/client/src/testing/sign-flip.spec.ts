import { signFlip, takeSignFlipScale } from './sign-flip';

describe('sign flip', () => {
  it('sends −S × the trained delta and keeps the example count and metrics', () => {
    const update = { delta: [{ name: 'w', shape: [3], dtype: 'float32' as const, data: new Float32Array([0.5, -0.25, 0]) }], numExamples: 50, metrics: { loss: 0.7 } };
    const flipped = signFlip(10)(update);
    expect(Array.from(flipped.delta[0].data)).toEqual([-5, 2.5, -0]);
    expect(flipped.delta[0]).toMatchObject({ name: 'w', shape: [3] });
    expect(flipped).toMatchObject({ numExamples: 50, metrics: { loss: 0.7 } });
    expect(Array.from(update.delta[0].data)).toEqual([0.5, -0.25, 0]);
  });

  it('refuses a scale that is not a number > 0', () => {
    expect(() => signFlip(0)).toThrow('expected a finite scale > 0, got 0');
  });

  it('takes --sign-flip-scale out of the client flags', () => {
    expect(takeSignFlipScale(['--client-id', 'a', '--sign-flip-scale', '10', '--seed', '3'])).toEqual({ scale: 10, rest: ['--client-id', 'a', '--seed', '3'] });
    expect(() => takeSignFlipScale(['--client-id', 'a'])).toThrow('--sign-flip-scale: expected a number > 0, got nothing');
    expect(() => takeSignFlipScale(['--sign-flip-scale', '-1'])).toThrow('got -1');
  });
});
