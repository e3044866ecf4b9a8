import { generateX25519KeyPair, type X25519KeyPair } from './key-agreement';
import { decryptShare, encryptShares, type EncryptedShare, type SharePair } from './share-encryption';

const context = { runId: 'run-7', round: 2, session: 'plan-a' };
const keys: Record<string, X25519KeyPair> = {
  'org-1': generateX25519KeyPair(),
  'org-2': generateX25519KeyPair(),
  'org-3': generateX25519KeyPair(),
};
const pair: SharePair = {
  selfMaskShare: Uint8Array.from({ length: 33 }, (_, i) => i),
  secretKeyShare: Uint8Array.from({ length: 33 }, (_, i) => 255 - i),
};

/** org-1's shares for org-2 and org-3, encrypted under `ctx`. */
function fromOrg1(ctx = context): EncryptedShare[] {
  return encryptShares({
    context: ctx,
    senderId: 'org-1',
    senderEncryptionKey: keys['org-1'].privateKey,
    recipients: ['org-2', 'org-3'].map((id) => ({ id, encryptionPublicKey: keys[id].publicKey, ...pair })),
  });
}

/** `recipient` decrypts `share` as coming from `sender`, under `ctx`. */
function open(share: EncryptedShare, recipient: string, sender = 'org-1', ctx = context): SharePair {
  return decryptShare({
    context: ctx,
    recipientId: recipient,
    recipientEncryptionKey: keys[recipient].privateKey,
    senderEncryptionPublicKey: keys[sender].publicKey,
    share,
  });
}

const authFailure = expect.objectContaining({
  code: 'FEDTL_ERR_MALFORMED_MESSAGE',
  message: expect.stringMatching(/that authenticates, got one that does not/),
});

describe('share encryption (Bonawitz et al. §5, round 1 ShareKeys and round 4 Unmasking)', () => {
  it('each recipient decrypts exactly its pair of shares; ciphertexts are nonce ‖ 74 bytes ‖ tag', () => {
    const [toOrg2, toOrg3] = fromOrg1();
    expect(toOrg2).toMatchObject({ senderId: 'org-1', recipientId: 'org-2' });
    expect(toOrg2.ciphertext).toHaveLength(12 + 4 + 33 + 4 + 33 + 16);
    expect(open(toOrg2, 'org-2')).toEqual(pair);
    expect(open(toOrg3, 'org-3')).toEqual(pair);
    // A fresh random nonce each time: the same plaintext never gives the same ciphertext.
    expect(fromOrg1()[0].ciphertext).not.toEqual(toOrg2.ciphertext);
  });

  it('fails on any flipped bit in the nonce, the body or the tag', () => {
    const [toOrg2] = fromOrg1();
    for (let i = 0; i < toOrg2.ciphertext.length; i++) {
      const ciphertext = Uint8Array.from(toOrg2.ciphertext);
      ciphertext[i] ^= 1 << i % 8;
      expect(() => open({ ...toOrg2, ciphertext }, 'org-2')).toThrow(authFailure);
    }
    const truncated = { ...toOrg2, ciphertext: toOrg2.ciphertext.subarray(0, 27) };
    expect(() => open(truncated, 'org-2')).toThrow(
      expect.objectContaining({ message: expect.stringMatching(/at least 28 bytes from "org-1", got 27 bytes/) }),
    );
  });

  it('fails for the wrong recipient, relabelled or not', () => {
    const [toOrg2] = fromOrg1();
    expect(() => open(toOrg2, 'org-3')).toThrow(
      expect.objectContaining({
        code: 'FEDTL_ERR_MALFORMED_MESSAGE',
        message: 'share decryption: expected a share for "org-3", got one for "org-2" from "org-1"',
      }),
    );
    // The server relabels org-2's ciphertext for org-3: another key and other associated data.
    expect(() => open({ ...toOrg2, recipientId: 'org-3' }, 'org-3')).toThrow(authFailure);
  });

  it('fails for the wrong round, the wrong run, a claimed other sender, or the pair reversed', () => {
    const [toOrg2] = fromOrg1();
    expect(() => open(toOrg2, 'org-2', 'org-1', { runId: 'run-7', round: 3, session: 'plan-a' })).toThrow(authFailure);
    expect(() => open(toOrg2, 'org-2', 'org-1', { runId: 'run-8', round: 2, session: 'plan-a' })).toThrow(authFailure);
    expect(() => open({ ...toOrg2, senderId: 'org-3' }, 'org-2', 'org-3')).toThrow(authFailure);
    // Reflected back to org-1 as if org-2 had sent it: same X25519 secret, but the ordered pair differs.
    const reflected = { senderId: 'org-2', recipientId: 'org-1', ciphertext: toOrg2.ciphertext };
    expect(() => open(reflected, 'org-1', 'org-2')).toThrow(authFailure);
  });

  it('refuses the sender among the recipients, a repeated recipient, an empty share, a bad context', () => {
    const encrypt = (recipients: string[], shares = pair, ctx = context) => () =>
      encryptShares({
        context: ctx,
        senderId: 'org-1',
        senderEncryptionKey: keys['org-1'].privateKey,
        recipients: recipients.map((id) => ({ id, encryptionPublicKey: keys[id].publicKey, ...shares })),
      });
    expect(encrypt(['org-2', 'org-1'])).toThrow(
      expect.objectContaining({
        code: 'FEDTL_ERR_INTERNAL',
        message: 'share encryption: expected a recipient other than the sender, got "org-1" for both',
      }),
    );
    expect(encrypt(['org-2', 'org-2'])).toThrow(expect.objectContaining({ message: expect.stringMatching(/twice/) }));
    expect(encrypt(['org-2'], { ...pair, secretKeyShare: new Uint8Array(0) })).toThrow(
      expect.objectContaining({ code: 'FEDTL_ERR_INTERNAL', message: expect.stringMatching(/got 0 bytes/) }),
    );
    expect(encrypt(['org-2'], pair, { runId: '', round: 2, session: 'plan-a' })).toThrow(
      expect.objectContaining({ code: 'FEDTL_ERR_BAD_CONFIG' }),
    );
  });
});
