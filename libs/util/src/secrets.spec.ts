import { secretsEqual } from './secrets';

describe('secretsEqual', () => {
  it('compares tokens of any length', () => {
    expect(secretsEqual('sesame', 'sesame')).toBe(true);
    expect(secretsEqual('sesame', 'sesamE')).toBe(false);
    expect(secretsEqual('', 'sesame')).toBe(false);
  });
});
