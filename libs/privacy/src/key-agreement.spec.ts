import { createPrivateKey, type KeyObject } from 'node:crypto';
import {
  compareClientIds,
  derivePairwiseSeed,
  generateX25519KeyPair,
  importX25519PublicKey,
} from './key-agreement';

const context = { runId: 'run-1', round: 3, session: 'plan-a' };

/** An X25519 private key from its raw scalar and public key (hex), as a JWK. */
function privateKeyFromHex(d: string, x: string) {
  return createPrivateKey({
    key: {
      kty: 'OKP',
      crv: 'X25519',
      d: Buffer.from(d, 'hex').toString('base64url'),
      x: Buffer.from(x, 'hex').toString('base64url'),
    },
    format: 'jwk',
  });
}

function agree(ownId: string, ownPrivateKey: KeyObject, peerId: string, peerPublicKey: Uint8Array, at = context) {
  return derivePairwiseSeed({ ownId, ownPrivateKey, peerId, peerPublicKey }, at);
}

describe('X25519 key agreement to pairwise seeds', () => {
  // Golden value from an independent implementation (Python, pyca/cryptography 48): private scalars
  // sha256(b"a") and sha256(b"b"), shared = X25519PrivateKey.exchange, then
  // HKDF(SHA256(), 32, salt=None,
  //      info=<length-prefixed "fedtl/secagg/v1/pairwise-seed", "run-1", "3", "plan-a", "org-1", "org-2">).
  const skA = 'ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb';
  const pkA = '34a7ca8bbded4e3f24c60ecb655f9235ac1b12d97aea698c554df8bf1d950f2d';
  const skB = '3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d';
  const pkB = 'b49f0c127818d83f1f712db6a7ffef49bff936211f49522a0f4fea01bd38d018';
  const expected = '7b949bb6cad8306b0aa4295b811bd2d020a77a294db1d15f259e50d4d63c0a2b';

  it('derives the reference seed from both ends, whichever id comes first', () => {
    const fromA = agree('org-1', privateKeyFromHex(skA, pkA), 'org-2', Buffer.from(pkB, 'hex'));
    const fromB = agree('org-2', privateKeyFromHex(skB, pkB), 'org-1', Buffer.from(pkA, 'hex'));
    expect(Buffer.from(fromA).toString('hex')).toBe(expected);
    expect(Buffer.from(fromB).toString('hex')).toBe(expected);
  });

  it('agrees between fresh key pairs, and binds the run and round', () => {
    const u = generateX25519KeyPair();
    const v = generateX25519KeyPair();
    expect(u.publicKey).toHaveLength(32);
    const seedU = agree('u', u.privateKey, 'v', v.publicKey);
    expect(agree('v', v.privateKey, 'u', u.publicKey)).toEqual(seedU);
    expect(agree('u', u.privateKey, 'v', v.publicKey, { runId: 'run-1', round: 4, session: 'plan-a' })).not.toEqual(seedU);
    expect(agree('u', u.privateKey, 'v', v.publicKey, { runId: 'run-2', round: 3, session: 'plan-a' })).not.toEqual(seedU);
    expect(agree('u', u.privateKey, 'v', v.publicKey, { runId: 'run-1', round: 3, session: 'plan-b' })).not.toEqual(seedU);
  });

  it('refuses a key of another length, the all-zero low-order key and the same id twice', () => {
    const u = generateX25519KeyPair();
    expect(() => importX25519PublicKey(new Uint8Array(31))).toThrow(
      'key agreement: expected a 32-byte X25519 public key, got 31 bytes',
    );
    expect(() => agree('u', u.privateKey, 'v', new Uint8Array(32))).toThrow(
      expect.objectContaining({ code: 'FEDTL_ERR_MALFORMED_MESSAGE', message: expect.stringMatching(/low-order/) }),
    );
    expect(() => agree('u', u.privateKey, 'u', u.publicKey)).toThrow(
      'key agreement: expected two different client ids, got "u" twice',
    );
  });

  it('orders client ids by their UTF-8 bytes', () => {
    expect(['org-2', 'org-10', 'Org-3', 'org-1'].sort(compareClientIds)).toEqual(['Org-3', 'org-1', 'org-10', 'org-2']);
    // UTF-16 code units would put U+1F600 (D83D DE00) before U+FF21; UTF-8 bytes (F0… vs EF…) put it after.
    expect(['\u{1F600}', '\uFF21'].sort(compareClientIds)).toEqual(['\uFF21', '\u{1F600}']);
  });
});
