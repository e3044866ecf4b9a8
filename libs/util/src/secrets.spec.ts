import { redactUrl, secretsEqual, tokenWeakness } from './secrets';

describe('secretsEqual', () => {
  it('compares tokens of any length', () => {
    expect(secretsEqual('sesame', 'sesame')).toBe(true);
    expect(secretsEqual('sesame', 'sesamE')).toBe(false);
    expect(secretsEqual('', 'sesame')).toBe(false);
  });
});

describe('tokenWeakness', () => {
  it('refuses short tokens, placeholders and repeated characters without repeating the token', () => {
    expect(tokenWeakness('sesame')).toBe('6 characters (fewer than 16)');
    expect(tokenWeakness('change-me')).toBe('a known placeholder ("changeme…")');
    expect(tokenWeakness('Change-Me-Please-Now-2024')).toBe('a known placeholder ("changeme…")');
    expect(tokenWeakness('x'.repeat(40))).toBe('one repeated character');
    expect(tokenWeakness('3f9c1e0b7a5d42c8e6b1')).toBeUndefined();
  });
});

describe('redactUrl', () => {
  it('hides a URL\'s user name and password, and leaves other URLs and text alone', () => {
    expect(redactUrl('http://org-7:hunter2@coordinator.example:8080')).toBe('http://***@coordinator.example:8080/');
    expect(redactUrl('https://coordinator.example:8443')).toBe('https://coordinator.example:8443');
    expect(redactUrl('not a url')).toBe('not a url');
    expect(redactUrl('http://127.0.0.1:9/api/status?token=qsecret&x=1#frag')).toBe('http://127.0.0.1:9/api/status?token=***&x=***#frag');
  });
});
