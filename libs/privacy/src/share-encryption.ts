// Authenticated encryption of one client's shares for one peer, relayed by the server.
//
// Bonawitz et al., CCS 2017 (https://eprint.iacr.org/2017/281), §3 ("authenticated encryption": AE.enc, AE.dec
// with a key from KA.agree) and §5, round 1 ShareKeys: client u sends, for each v ∈ U1 \ {u},
//   e_{u,v} = AE.enc(KA.agree(c_u^SK, c_v^PK), u ‖ v ‖ s_{u,v}^SK ‖ b_{u,v})
// through the server, which cannot read it; in round 4 (Unmasking) v decrypts it and checks that it names u and v.
// fedtl follows this with node:crypto and binds the names (and the run and round) as associated data rather
// than inside the plaintext, which AES-GCM authenticates just the same:
//   k_{u→v}    = HKDF-SHA256(ikm = X25519(c_u^SK, c_v^PK), salt = empty,
//                           info = kdfInfo("fedtl/secagg/v1/share-encryption", [runId, decimal round, session, u, v]), 32)
//   aad        = kdfInfo("fedtl/secagg/v1/share-ciphertext", [runId, decimal round, session, u, v])
//   plaintext  = len ‖ b_{u,v} ‖ len ‖ s_{u,v}^SK          (len: 4-byte big-endian byte length)
//   ciphertext = nonce (12 random bytes) ‖ AES-256-GCM(k_{u→v}, nonce, aad, plaintext) ‖ tag (16 bytes)
// The pair (u, v) is ordered: sender first. k_{u→v} and k_{v→u} differ, so a ciphertext cannot be reflected back
// to its sender or passed off as going the other way; another run, round, sender or recipient changes both the
// key and the associated data, so decryption fails. c_u is the encryption key pair of round 0 (AdvertiseKeys), a
// second X25519 pair next to s_u (generateX25519KeyPair). A random 96-bit nonce is safe: a key is for one
// message (one sender, one recipient, one round), and even repeated calls stay far below the 2^32 messages per key
// that NIST SP 800-38D allows with random nonces.
import { createCipheriv, createDecipheriv, diffieHellman, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import { errorMessage, FedtlError } from '@fedtl/util';
import { compareClientIds, importX25519PublicKey } from './key-agreement';
import { assertSecAggContext, contextFields, kdfInfo, type SecAggContext } from './secagg-context';

const KEY_LABEL = 'fedtl/secagg/v1/share-encryption';
const AAD_LABEL = 'fedtl/secagg/v1/share-ciphertext';
/** Bytes of the random AES-GCM nonce at the start of a ciphertext. */
export const SHARE_NONCE_BYTES = 12;
/** Bytes of the AES-GCM tag at the end of a ciphertext. */
export const SHARE_TAG_BYTES = 16;
/** Longest share accepted in a plaintext; the protocol's shares are 33 bytes (32-byte secret + x-coordinate). */
const MAX_SHARE_BYTES = 1025;

/** v's shares of u's two secrets (round 1, ShareKeys): b_{u,v} of the self-mask seed, s_{u,v}^SK of the key. */
export interface SharePair {
  /** v's Shamir share of u's self-mask seed b_u. */
  readonly selfMaskShare: Uint8Array;
  /** v's Shamir share of u's pairwise-mask X25519 secret key s_u^SK (raw 32 bytes, exportX25519PrivateKey). */
  readonly secretKeyShare: Uint8Array;
}

/** One recipient v of u's shares: its id, its encryption public key c_v^PK (raw 32 bytes) and its shares. */
export interface ShareRecipient extends SharePair {
  readonly id: string;
  readonly encryptionPublicKey: Uint8Array;
}

/** e_{u,v}: what u sends to v through the server. */
export interface EncryptedShare {
  readonly senderId: string;
  readonly recipientId: string;
  /** nonce ‖ AES-256-GCM ciphertext ‖ tag (layout above). */
  readonly ciphertext: Uint8Array;
}

/** What sender u needs to encrypt its shares for every other client (round 1, ShareKeys). */
export interface ShareEncryptionInput {
  readonly context: SecAggContext;
  readonly senderId: string;
  /** c_u^SK: the sender's encryption private key for this round. */
  readonly senderEncryptionKey: KeyObject;
  /** Every v ∈ U1 \ {u}, each once. u keeps its own share and does not encrypt it. */
  readonly recipients: readonly ShareRecipient[];
}

/** What recipient v needs to decrypt e_{u,v} (round 4, Unmasking). */
export interface ShareDecryptionInput {
  readonly context: SecAggContext;
  /** v: the id this client has in the run. */
  readonly recipientId: string;
  /** c_v^SK: the recipient's encryption private key for this round. */
  readonly recipientEncryptionKey: KeyObject;
  /** c_u^PK: the sender's encryption public key as advertised in round 0 (raw 32 bytes). */
  readonly senderEncryptionPublicKey: Uint8Array;
  readonly share: EncryptedShare;
}

/** k_{u→v} and the associated data (construction above). */
function keyAndAad(
  context: SecAggContext,
  ownKey: KeyObject,
  peerPublicKey: Uint8Array,
  senderId: string,
  recipientId: string,
): { key: Buffer; aad: Buffer } {
  const peerKey = importX25519PublicKey(peerPublicKey);
  let shared: Buffer;
  try {
    shared = diffieHellman({ privateKey: ownKey, publicKey: peerKey });
  } catch (err) {
    throw new FedtlError(
      'FEDTL_ERR_MALFORMED_MESSAGE',
      `share encryption: X25519 between "${senderId}" and "${recipientId}" failed (a low-order key?): ` +
        errorMessage(err),
    );
  }
  const fields = [...contextFields(context), senderId, recipientId];
  const key = Buffer.from(hkdfSync('sha256', shared, Buffer.alloc(0), kdfInfo(KEY_LABEL, fields), 32));
  shared.fill(0);
  return { key, aad: kdfInfo(AAD_LABEL, fields) };
}

function assertDistinct(senderId: string, recipientId: string): void {
  if (compareClientIds(senderId, recipientId) === 0) {
    throw new FedtlError(
      'FEDTL_ERR_INTERNAL',
      `share encryption: expected a recipient other than the sender, got "${senderId}" for both`,
    );
  }
}

function assertShare(share: Uint8Array, what: string): void {
  if (!(share instanceof Uint8Array) || share.length < 2 || share.length > MAX_SHARE_BYTES) {
    const got = share instanceof Uint8Array ? `${share.length} bytes` : typeof share;
    throw new FedtlError(
      'FEDTL_ERR_INTERNAL',
      `share encryption: expected ${what} of 2 to ${MAX_SHARE_BYTES} bytes, got ${got}`,
    );
  }
}

function encodePair({ selfMaskShare, secretKeyShare }: SharePair): Buffer {
  const parts: Buffer[] = [];
  for (const share of [selfMaskShare, secretKeyShare]) {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(share.length);
    parts.push(length, Buffer.from(share));
  }
  return Buffer.concat(parts);
}

function decodePair(plain: Buffer, senderId: string): SharePair {
  const fail = (got: string): never => {
    throw new FedtlError(
      'FEDTL_ERR_MALFORMED_MESSAGE',
      `share decryption: expected two length-prefixed shares from "${senderId}", got ${got}`,
    );
  };
  const out: Uint8Array[] = [];
  let offset = 0;
  for (let i = 0; i < 2; i++) {
    if (plain.length < offset + 4) fail(`${plain.length} bytes, cut before share ${i}'s length`);
    const length = plain.readUInt32BE(offset);
    offset += 4;
    if (plain.length < offset + length) fail(`share ${i} of ${length} bytes with ${plain.length - offset} left`);
    out.push(new Uint8Array(plain.subarray(offset, offset + length)));
    offset += length;
  }
  if (offset !== plain.length) fail(`${plain.length - offset} trailing bytes`);
  return { selfMaskShare: out[0], secretKeyShare: out[1] };
}

/**
 * AE.enc of round 1 (ShareKeys): e_{u,v} for every recipient v, in the recipients' order. Throws
 * FEDTL_ERR_INTERNAL when a recipient is the sender or repeated, or a share is empty or over-long (the sender's
 * own bookkeeping); FEDTL_ERR_MALFORMED_MESSAGE for a peer's bad public key; FEDTL_ERR_BAD_CONFIG for a bad
 * context.
 */
export function encryptShares(input: ShareEncryptionInput): EncryptedShare[] {
  const { context, senderId, senderEncryptionKey } = input;
  assertSecAggContext(context);
  const seen = new Set<string>();
  for (const r of input.recipients) {
    assertDistinct(senderId, r.id);
    if (seen.has(r.id)) {
      throw new FedtlError('FEDTL_ERR_INTERNAL', `share encryption: expected each recipient once, got "${r.id}" twice`);
    }
    seen.add(r.id);
    assertShare(r.selfMaskShare, `the self-mask share for "${r.id}"`);
    assertShare(r.secretKeyShare, `the secret-key share for "${r.id}"`);
  }
  return input.recipients.map((r) => {
    const { key, aad } = keyAndAad(context, senderEncryptionKey, r.encryptionPublicKey, senderId, r.id);
    const nonce = randomBytes(SHARE_NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: SHARE_TAG_BYTES });
    cipher.setAAD(aad);
    const plain = encodePair(r);
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    plain.fill(0);
    key.fill(0);
    const ciphertext = new Uint8Array(Buffer.concat([nonce, body, cipher.getAuthTag()]));
    return { senderId, recipientId: r.id, ciphertext };
  });
}

/**
 * AE.dec of round 4 (Unmasking): v's shares of u's secrets from e_{u,v}. Throws FEDTL_ERR_MALFORMED_MESSAGE when
 * the message names another recipient, is too short, or fails authentication (tampered, or made for another run,
 * round, sender or recipient, or with other keys); FEDTL_ERR_BAD_CONFIG for a bad context.
 */
export function decryptShare(input: ShareDecryptionInput): SharePair {
  const { context, recipientId, share } = input;
  assertSecAggContext(context);
  const { senderId, ciphertext } = share;
  if (share.recipientId !== recipientId) {
    throw new FedtlError(
      'FEDTL_ERR_MALFORMED_MESSAGE',
      `share decryption: expected a share for "${recipientId}", got one for "${share.recipientId}" from "${senderId}"`,
    );
  }
  assertDistinct(senderId, recipientId);
  const minimum = SHARE_NONCE_BYTES + SHARE_TAG_BYTES;
  if (!(ciphertext instanceof Uint8Array) || ciphertext.length < minimum) {
    const got = ciphertext instanceof Uint8Array ? `${ciphertext.length} bytes` : typeof ciphertext;
    throw new FedtlError(
      'FEDTL_ERR_MALFORMED_MESSAGE',
      `share decryption: expected a ciphertext of at least ${minimum} bytes from "${senderId}", got ${got}`,
    );
  }
  const bytes = Buffer.from(ciphertext);
  const { key, aad } = keyAndAad(
    context,
    input.recipientEncryptionKey,
    input.senderEncryptionPublicKey,
    senderId,
    recipientId,
  );
  const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, SHARE_NONCE_BYTES), {
    authTagLength: SHARE_TAG_BYTES,
  });
  decipher.setAAD(aad);
  decipher.setAuthTag(bytes.subarray(bytes.length - SHARE_TAG_BYTES));
  let plain: Buffer;
  try {
    plain = Buffer.concat([
      decipher.update(bytes.subarray(SHARE_NONCE_BYTES, bytes.length - SHARE_TAG_BYTES)),
      decipher.final(),
    ]);
  } catch (err) {
    throw new FedtlError(
      'FEDTL_ERR_MALFORMED_MESSAGE',
      `share decryption: expected a ciphertext from "${senderId}" to "${recipientId}" for run "${context.runId}" ` +
        `round ${context.round} that authenticates, got one that does not (tampered, or made for another run, ` +
        `round, sender or recipient): ${errorMessage(err)}`,
    );
  } finally {
    key.fill(0);
  }
  try {
    return decodePair(plain, senderId);
  } finally {
    plain.fill(0);
  }
}
