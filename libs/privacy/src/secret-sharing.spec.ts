import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { combine } from 'shamir-secret-sharing';
import { exportX25519PrivateKey, generateX25519KeyPair, importX25519PrivateKey } from './key-agreement';
import { reconstructSecret, shareSecret } from './secret-sharing';

/** A fixed 32-byte secret standing in for b_u. */
const secret = new Uint8Array(createHash('sha256').update('b_u of org-1').digest());

/** Every k-element subset of `items`, in lexicographic order of indices. */
function subsets<T>(items: readonly T[], k: number): T[][] {
  if (k === 0) return [[]];
  if (items.length < k) return [];
  const [first, ...rest] = items;
  return [...subsets(rest, k - 1).map((s) => [first, ...s]), ...subsets(rest, k)];
}

describe('Shamir secret sharing (Bonawitz et al. §5 rounds 1 and 4, via shamir-secret-sharing)', () => {
  it('n = 5, t = 3: each of the 10 subsets of 3 shares, the 5 of 4 and all 5 rebuild b_u exactly', async () => {
    const shares = await shareSecret(secret, 5, 3);
    expect(shares).toHaveLength(5);
    for (const share of shares) expect(share).toHaveLength(33);
    const groups = [...subsets(shares, 3), ...subsets(shares, 4), shares];
    expect(groups).toHaveLength(16);
    for (const group of groups) expect(await reconstructSecret(group, 3)).toEqual(secret);
  });

  it('refuses 2 shares of a 3-threshold secret (the library alone would return garbage)', async () => {
    const shares = await shareSecret(secret, 5, 3);
    for (const pair of subsets(shares, 2)) {
      await expect(reconstructSecret(pair, 3)).rejects.toMatchObject({
        code: 'FEDTL_ERR_MALFORMED_MESSAGE',
        message: expect.stringMatching(/at least the threshold 3 .* got 2/),
      });
      // Why the check is ours: combine interpolates a line through 2 points and returns other bytes, no error.
      expect(await combine(pair)).not.toEqual(secret);
    }
  });

  it('rebuilds any secret from any t of n shares, n ≤ 12 (fast-check, fixed seed)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        fc.integer({ min: 2, max: 12 }).chain((n) =>
          fc.tuple(fc.constant(n), fc.integer({ min: 2, max: n }), fc.shuffledSubarray([...Array(n).keys()])),
        ),
        async (bytes, [n, t, order]) => {
          const shares = await shareSecret(bytes, n, t);
          const chosen = [...order, ...[...Array(n).keys()].filter((i) => !order.includes(i))].slice(0, t);
          expect(await reconstructSecret(chosen.map((i) => shares[i]), t)).toEqual(bytes);
        },
      ),
      { seed: 20171030, numRuns: 200 },
    );
  });

  it('shares and rebuilds an X25519 secret key s_u^SK, which then gives the same public key', async () => {
    const pair = generateX25519KeyPair();
    const raw = exportX25519PrivateKey(pair.privateKey);
    expect(raw).toHaveLength(32);
    const shares = await shareSecret(raw, 5, 3);
    const rebuilt = importX25519PrivateKey(await reconstructSecret([shares[4], shares[0], shares[2]], 3));
    expect(exportX25519PrivateKey(rebuilt)).toEqual(raw);
    const jwk = rebuilt.export({ format: 'jwk' });
    expect(new Uint8Array(Buffer.from(jwk.x as string, 'base64url'))).toEqual(pair.publicKey);
    expect(() => importX25519PrivateKey(new Uint8Array(31))).toThrow(
      expect.objectContaining({
        code: 'FEDTL_ERR_MALFORMED_MESSAGE',
        message: expect.stringMatching(/32-byte .* got 31/),
      }),
    );
    expect(() => exportX25519PrivateKey(generateX25519KeyPair().privateKey)).not.toThrow();
  });

  it('accepts a Buffer as the secret and as shares (the library itself refuses Buffers)', async () => {
    const shares = await shareSecret(Buffer.from(secret), 3, 2);
    expect(await reconstructSecret([Buffer.from(shares[2]), Buffer.from(shares[0])], 2)).toEqual(secret);
  });

  it.each([
    [5, 1],
    [5, 6],
    [256, 3],
    [5.5, 3],
    [5, Number.NaN],
  ])('refuses n = %p, t = %p (expected 2 ≤ t ≤ n ≤ 255)', async (n, t) => {
    await expect(shareSecret(secret, n, t)).rejects.toMatchObject({
      code: 'FEDTL_ERR_BAD_CONFIG',
      message: expect.stringMatching(/expected integers 2 ≤ threshold ≤ shares ≤ 255, got threshold/),
    });
  });

  it('refuses an empty or over-long secret', async () => {
    for (const bad of [new Uint8Array(0), new Uint8Array(1025)]) {
      await expect(shareSecret(bad, 5, 3)).rejects.toMatchObject({
        code: 'FEDTL_ERR_INTERNAL',
        message: expect.stringMatching(`expected a secret of 1 to 1024 bytes, got ${bad.length} bytes`),
      });
    }
  });

  it('refuses shares of mixed lengths, a repeated share, a bad threshold', async () => {
    const shares = await shareSecret(secret, 5, 3);
    await expect(reconstructSecret([shares[0], shares[1], shares[2].subarray(1)], 3)).rejects.toMatchObject({
      code: 'FEDTL_ERR_MALFORMED_MESSAGE',
      message: expect.stringMatching(/same length .* got 32 bytes for share 2/),
    });
    await expect(reconstructSecret([shares[0], shares[1], shares[0]], 3)).rejects.toMatchObject({
      code: 'FEDTL_ERR_MALFORMED_MESSAGE',
      message: expect.stringMatching(/distinct non-zero x-coordinates, got x = \d+ again for share 2/),
    });
    await expect(reconstructSecret(shares, 1)).rejects.toMatchObject({
      code: 'FEDTL_ERR_BAD_CONFIG',
      message: 'secret sharing: expected the threshold an integer in [2, 255], got 1',
    });
  });
});
