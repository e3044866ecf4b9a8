// Pairwise key agreement: X25519 Diffie-Hellman, then HKDF-SHA256 to the seed s_{u,v} of a pairwise mask.
//
// Bonawitz et al., CCS 2017 (https://eprint.iacr.org/2017/281), §3 ("key agreement": KA.gen, KA.agree composed
// with a hash, here HKDF) and §5 (round 0 AdvertiseKeys, round 2 s_{u,v} = KA.agree(s_u^SK, s_v^PK)).
// Both ends derive the same seed because the HKDF `info` lists the two client ids in a canonical order
// (ascending by their UTF-8 bytes), after the run id and the round:
//   s_{u,v} = HKDF-SHA256(ikm = X25519(sk_u, pk_v), salt = empty,
//                         info = kdfInfo("fedtl/secagg/v1/pairwise-seed", [runId, decimal round, session, lowId, highId]),
//                         32 bytes)
// Keys travel as the raw 32-byte X25519 public key (RFC 7748), which is the JWK "x" field base64url-decoded.
import {
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  type KeyObject,
} from 'node:crypto';
import { errorMessage, FedtlError } from '@fedtl/util';
import { SEED_BYTES } from './mask-prg';
import { assertSecAggContext, contextFields, kdfInfo, type SecAggContext } from './secagg-context';

/** Bytes of a raw X25519 public key (RFC 7748). */
export const X25519_PUBLIC_KEY_BYTES = 32;

const PAIRWISE_SEED_LABEL = 'fedtl/secagg/v1/pairwise-seed';

/** A client's X25519 key pair for one round: the private key stays a KeyObject, the public key is raw bytes. */
export interface X25519KeyPair {
  readonly publicKey: Uint8Array;
  readonly privateKey: KeyObject;
}

/**
 * A fresh X25519 key pair (KA.gen, Bonawitz et al. 2017 §3), from node:crypto. The full protocol gives each client
 * two per round (§5 round 0: c_u for encrypting its shares, s_u for its pairwise masks); this makes one.
 */
export function generateX25519KeyPair(): X25519KeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('x25519');
  const jwk = publicKey.export({ format: 'jwk' });
  return { publicKey: new Uint8Array(Buffer.from(jwk.x as string, 'base64url')), privateKey };
}

/**
 * A peer's raw 32-byte X25519 public key as a KeyObject. Throws FEDTL_ERR_MALFORMED_MESSAGE (expected vs got)
 * when it has another length or node:crypto refuses it.
 */
export function importX25519PublicKey(raw: Uint8Array): KeyObject {
  if (!(raw instanceof Uint8Array) || raw.length !== X25519_PUBLIC_KEY_BYTES) {
    const got = raw instanceof Uint8Array ? `${raw.length} bytes` : typeof raw;
    throw new FedtlError(
      'FEDTL_ERR_MALFORMED_MESSAGE',
      `key agreement: expected a ${X25519_PUBLIC_KEY_BYTES}-byte X25519 public key, got ${got}`,
    );
  }
  try {
    return createPublicKey({
      key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(raw).toString('base64url') },
      format: 'jwk',
    });
  } catch (err) {
    throw new FedtlError(
      'FEDTL_ERR_MALFORMED_MESSAGE',
      `key agreement: expected a valid X25519 public key, got one node:crypto refused: ${errorMessage(err)}`,
    );
  }
}

/** Bytes of a raw X25519 private key (RFC 7748), the form in which it is secret-shared. */
export const X25519_PRIVATE_KEY_BYTES = 32;

/** PKCS#8 DER header of an X25519 private key (RFC 8410 §7); the raw 32 key bytes follow it. */
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

/**
 * The raw 32 bytes of an X25519 private key (the JWK "d" field base64url-decoded): what a client secret-shares in
 * round 1 (ShareKeys) of Bonawitz et al. 2017, §5, so that the server can rebuild s_u^SK if u drops out.
 * Throws FEDTL_ERR_INTERNAL when the key is not an X25519 private key.
 */
export function exportX25519PrivateKey(privateKey: KeyObject): Uint8Array {
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'x25519') {
    throw new FedtlError(
      'FEDTL_ERR_INTERNAL',
      `key agreement: expected an X25519 private key, got a ${privateKey.type} key of type ` +
        String(privateKey.asymmetricKeyType),
    );
  }
  return new Uint8Array(Buffer.from(privateKey.export({ format: 'jwk' }).d as string, 'base64url'));
}

/**
 * A raw 32-byte X25519 private key (e.g. reconstructed from Shamir shares in round 4, Unmasking) as a KeyObject.
 * Throws FEDTL_ERR_MALFORMED_MESSAGE (expected vs got) for another length.
 */
export function importX25519PrivateKey(raw: Uint8Array): KeyObject {
  if (!(raw instanceof Uint8Array) || raw.length !== X25519_PRIVATE_KEY_BYTES) {
    const got = raw instanceof Uint8Array ? `${raw.length} bytes` : typeof raw;
    throw new FedtlError(
      'FEDTL_ERR_MALFORMED_MESSAGE',
      `key agreement: expected a ${X25519_PRIVATE_KEY_BYTES}-byte X25519 private key, got ${got}`,
    );
  }
  const der = Buffer.concat([X25519_PKCS8_PREFIX, raw]);
  try {
    return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  } finally {
    der.fill(0);
  }
}

/**
 * The canonical order of client ids used wherever a pair must look the same from both ends (the HKDF info here,
 * the sign of a pairwise mask in masking.ts): ascending by UTF-8 bytes, as any language can reproduce.
 */
export function compareClientIds(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** The two sides of a pairwise key agreement: our id and private key, the peer's id and raw public key. */
export interface PairwiseAgreement {
  readonly ownId: string;
  readonly ownPrivateKey: KeyObject;
  readonly peerId: string;
  readonly peerPublicKey: Uint8Array;
}

/**
 * The 32-byte pairwise seed s_{u,v} (construction above); u and v compute the same bytes. Throws
 * FEDTL_ERR_MALFORMED_MESSAGE for a bad peer key (wrong length, or one that gives the all-zero low-order secret,
 * which node:crypto refuses) and FEDTL_ERR_BAD_CONFIG when both ids are the same or the context is invalid.
 */
export function derivePairwiseSeed(agreement: PairwiseAgreement, context: SecAggContext): Uint8Array {
  assertSecAggContext(context);
  const { ownId, peerId } = agreement;
  const order = compareClientIds(ownId, peerId);
  if (order === 0) {
    throw new FedtlError(
      'FEDTL_ERR_BAD_CONFIG',
      `key agreement: expected two different client ids, got "${ownId}" twice`,
    );
  }
  const peerKey = importX25519PublicKey(agreement.peerPublicKey);
  let shared: Buffer;
  try {
    shared = diffieHellman({ privateKey: agreement.ownPrivateKey, publicKey: peerKey });
  } catch (err) {
    throw new FedtlError(
      'FEDTL_ERR_MALFORMED_MESSAGE',
      `key agreement: X25519 with the public key of "${peerId}" failed (a low-order key?): ${errorMessage(err)}`,
    );
  }
  const [lowId, highId] = order < 0 ? [ownId, peerId] : [peerId, ownId];
  const info = kdfInfo(PAIRWISE_SEED_LABEL, [...contextFields(context), lowId, highId]);
  const seed = new Uint8Array(hkdfSync('sha256', shared, Buffer.alloc(0), info, SEED_BYTES));
  shared.fill(0);
  return seed;
}
