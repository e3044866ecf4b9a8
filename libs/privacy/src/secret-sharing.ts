// t-out-of-n Shamir secret sharing of a client's secrets, through the audited `shamir-secret-sharing` package.
//
// Bonawitz et al., CCS 2017 (https://eprint.iacr.org/2017/281), §3 ("secret sharing": SS.share, SS.recon) and
// §5 (round 1 ShareKeys: each client u splits its self-mask seed b_u and its pairwise secret key s_u^SK into
// t-out-of-|U1| shares; round 4 Unmasking: the server rebuilds b_u of each survivor and s_v^SK of each dropped
// client from t shares). Shamir (1979): any t shares determine the secret; any t − 1 or fewer shares are
// uniformly distributed whatever the secret, so they reveal nothing about it. The package (privy-io, audited by
// Cure53 and Zellic) shares each byte over GF(2^8) with a fresh random polynomial of degree t − 1 per byte and
// a random distinct non-zero x-coordinate per share; a share is the secret's length plus one byte (the
// x-coordinate, last). Nothing here is home-made: this file only validates arguments and wraps errors.
//
// Beware: `combine` of the package interpolates whatever it is given. With fewer than t shares it does not fail,
// it returns unrelated bytes (a polynomial of lower degree through those points). A share carries no record of
// t, so reconstructSecret takes t from the caller and refuses fewer shares with a clear error.
import { errorMessage, FedtlError } from '@fedtl/util';
import { combine, split } from 'shamir-secret-sharing';

/** At most this many shares (x-coordinates are the non-zero elements of GF(2^8)). */
export const MAX_SHARES = 255;

/** A share is the secret's length plus this many bytes (its x-coordinate). */
export const SHARE_OVERHEAD_BYTES = 1;

/** Longest secret accepted: the protocol shares 32-byte seeds and keys; this bound only caps the work. */
export const MAX_SECRET_BYTES = 1024;

function describeBytes(value: unknown): string {
  return value instanceof Uint8Array ? `${value.length} bytes` : typeof value;
}

/** Throws FEDTL_ERR_BAD_CONFIG unless 2 ≤ t ≤ n ≤ 255, all integers. */
function assertThresholdAndCount(n: number, t: number): void {
  if (!Number.isSafeInteger(n) || !Number.isSafeInteger(t) || t < 2 || t > n || n > MAX_SHARES) {
    throw new FedtlError(
      'FEDTL_ERR_BAD_CONFIG',
      `secret sharing: expected integers 2 ≤ threshold ≤ shares ≤ ${MAX_SHARES}, ` +
        `got threshold ${t} and ${n} shares`,
    );
  }
}

/** A plain Uint8Array copy: the package checks `constructor === Uint8Array`, which a Buffer fails. */
function plainCopy(bytes: Uint8Array): Uint8Array {
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return copy;
}

/**
 * SS.share (round 1, ShareKeys): `n` shares of `secret`, any `t` of which rebuild it and any t − 1 of which reveal
 * nothing about it. Randomness comes from node:crypto's CSPRNG (the package's Node entry point). Throws
 * FEDTL_ERR_BAD_CONFIG unless 2 ≤ t ≤ n ≤ 255, FEDTL_ERR_INTERNAL for an empty or over-long secret (the
 * caller's own secret). The shares are new arrays, each `secret.length + 1` bytes, in no meaningful order.
 */
export async function shareSecret(secret: Uint8Array, n: number, t: number): Promise<Uint8Array[]> {
  assertThresholdAndCount(n, t);
  if (!(secret instanceof Uint8Array) || secret.length === 0 || secret.length > MAX_SECRET_BYTES) {
    throw new FedtlError(
      'FEDTL_ERR_INTERNAL',
      `secret sharing: expected a secret of 1 to ${MAX_SECRET_BYTES} bytes, got ${describeBytes(secret)}`,
    );
  }
  const input = plainCopy(secret);
  try {
    return await split(input, n, t);
  } catch (err) {
    throw new FedtlError('FEDTL_ERR_INTERNAL', `secret sharing: split failed: ${errorMessage(err)}`);
  } finally {
    input.fill(0);
  }
}

/**
 * SS.recon (round 4, Unmasking): the secret from at least `t` shares of it. Refuses, before interpolating,
 * fewer than `t` shares or more than 255 (FEDTL_ERR_BAD_CONFIG for a bad `t`, FEDTL_ERR_MALFORMED_MESSAGE for the
 * shares: they come from other clients), shares of different or too small lengths, and two shares with the
 * same x-coordinate. It cannot detect a share of another secret or a corrupted one: such inputs give wrong bytes
 * (the shares are authenticated in transit by share-encryption.ts instead).
 */
export async function reconstructSecret(shares: readonly Uint8Array[], t: number): Promise<Uint8Array> {
  if (!Number.isSafeInteger(t) || t < 2 || t > MAX_SHARES) {
    throw new FedtlError(
      'FEDTL_ERR_BAD_CONFIG',
      `secret sharing: expected the threshold an integer in [2, ${MAX_SHARES}], got ${t}`,
    );
  }
  if (!Array.isArray(shares) || shares.length < t || shares.length > MAX_SHARES) {
    const got = Array.isArray(shares) ? `${shares.length}` : typeof shares;
    throw new FedtlError(
      'FEDTL_ERR_MALFORMED_MESSAGE',
      `secret sharing: expected at least the threshold ${t} and at most ${MAX_SHARES} shares, got ${got} ` +
        `(fewer than t shares reveal nothing and would rebuild garbage)`,
    );
  }
  const length = shares[0] instanceof Uint8Array ? shares[0].length : -1;
  const xs = new Set<number>();
  shares.forEach((share, i) => {
    if (!(share instanceof Uint8Array) || share.length !== length || length < 1 + SHARE_OVERHEAD_BYTES) {
      throw new FedtlError(
        'FEDTL_ERR_MALFORMED_MESSAGE',
        `secret sharing: expected every share of the same length (at least 2 bytes, the first is ` +
          `${describeBytes(shares[0])}), got ${describeBytes(share)} for share ${i}`,
      );
    }
    const x = share[length - 1];
    if (x === 0 || xs.has(x)) {
      throw new FedtlError(
        'FEDTL_ERR_MALFORMED_MESSAGE',
        `secret sharing: expected distinct non-zero x-coordinates, ` +
          `got x = ${x} ${x === 0 ? '' : 'again '}for share ${i}`,
      );
    }
    xs.add(x);
  });
  const copies = shares.map(plainCopy);
  try {
    return await combine(copies);
  } catch (err) {
    throw new FedtlError('FEDTL_ERR_MALFORMED_MESSAGE', `secret sharing: combine failed: ${errorMessage(err)}`);
  } finally {
    for (const copy of copies) copy.fill(0);
  }
}
