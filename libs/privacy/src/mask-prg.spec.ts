import { createCipheriv, hkdfSync } from 'node:crypto';
import { expandMask, generateMaskSeed } from './mask-prg';
import { kdfInfo } from './secagg-context';

const context = { runId: 'run-1', round: 3, session: 'plan-a' };
const seed = Uint8Array.from({ length: 32 }, (_, i) => i);

describe('expandMask', () => {
  // Golden values from an independent implementation (Python, pyca/cryptography 48):
  //   key = HKDF(SHA256(), 32, salt=None, info=<length-prefixed "fedtl/secagg/v1/mask-prg", "run-1", "3", "plan-a", purpose>)
  //         .derive(bytes(range(32)))
  //   stream = Cipher(AES(key), CTR(bytes(16))).encryptor().update(bytes(24)); struct.unpack('<6I', stream)
  it('matches the reference HKDF-SHA256 + AES-256-CTR construction for both purposes', () => {
    expect(Array.from(expandMask(seed, 6, context, 'self-mask'))).toEqual([
      2288924300, 3030460710, 3403814002, 2802851300, 2168602680, 1013361777,
    ]);
    expect(Array.from(expandMask(seed, 6, context, 'pairwise-mask'))).toEqual([
      663614196, 3902962635, 2144405361, 1548585999, 3149433097, 1645026667,
    ]);
  });

  it('is AES-256 applied to the big-endian counter blocks 0, 1, 2, … under the derived key', () => {
    const info = kdfInfo('fedtl/secagg/v1/mask-prg', ['run-1', '3', 'plan-a', 'self-mask']);
    const key = hkdfSync('sha256', seed, Buffer.alloc(0), info, 32);
    const blocks = Buffer.alloc(16 * 3);
    for (let b = 0; b < 3; b++) blocks.writeUInt32BE(b, 16 * b + 12);
    const ecb = createCipheriv('aes-256-ecb', Buffer.from(key), null).setAutoPadding(false);
    const stream = Buffer.concat([ecb.update(blocks), ecb.final()]);
    const expected = Array.from({ length: 12 }, (_, i) => stream.readUInt32LE(4 * i));
    expect(Array.from(expandMask(seed, 12, context, 'self-mask'))).toEqual(expected);
  });

  it('gives another mask for another run, round or seed, and a prefix for a shorter length', () => {
    const base = Array.from(expandMask(seed, 8, context, 'self-mask'));
    expect(Array.from(expandMask(seed, 8, { runId: 'run-2', round: 3, session: 'plan-a' }, 'self-mask'))).not.toEqual(base);
    expect(Array.from(expandMask(seed, 8, { runId: 'run-1', round: 4, session: 'plan-a' }, 'self-mask'))).not.toEqual(base);
    expect(Array.from(expandMask(seed, 8, { runId: 'run-1', round: 3, session: 'plan-b' }, 'self-mask'))).not.toEqual(base);
    expect(Array.from(expandMask(generateMaskSeed(), 8, context, 'self-mask'))).not.toEqual(base);
    expect(Array.from(expandMask(seed, 3, context, 'self-mask'))).toEqual(base.slice(0, 3));
    expect(expandMask(seed, 0, context, 'self-mask')).toHaveLength(0);
  });

  it('refuses a seed of another size, a bad length and a bad context, saying what it expected', () => {
    expect(() => expandMask(new Uint8Array(16), 4, context, 'self-mask')).toThrow(
      'mask generator: expected a 32-byte seed, got 16 bytes',
    );
    expect(() => expandMask(seed, -1, context, 'self-mask')).toThrow(
      'mask generator: expected a length an integer in [0, 2^30], got -1',
    );
    expect(() => expandMask(seed, 4, { runId: '', round: 0, session: 'plan-a' }, 'self-mask')).toThrow('expected a non-empty run id');
    expect(() => expandMask(seed, 4, { runId: 'r', round: 1.5, session: 'plan-a' }, 'self-mask')).toThrow(
      'expected the round a non-negative integer, got 1.5',
    );
  });
});
