// End to end over the building blocks (Bonawitz et al. 2017, §5, rounds 0–4, without the network): key
// advertisement, ShareKeys with Shamir shares encrypted between clients, masked inputs, dropouts, and the
// server's unmasking from the shares that survivors decrypt and return.
import { seededRandom } from '@fedtl/util';
import { addInPlace, FixedPointCodec } from './fixed-point';
import {
  derivePairwiseSeed,
  exportX25519PrivateKey,
  generateX25519KeyPair,
  importX25519PrivateKey,
  type X25519KeyPair,
} from './key-agreement';
import { generateMaskSeed } from './mask-prg';
import { maskInput, unmaskSum } from './masking';
import { reconstructSecret, shareSecret } from './secret-sharing';
import { decryptShare, encryptShares, type EncryptedShare, type SharePair } from './share-encryption';

const context = { runId: 'run-7', round: 2, session: 'plan-a' };
const ids = ['org-1', 'org-2', 'org-3', 'org-4', 'org-5'];
const threshold = 3;
const codec = new FixedPointCodec({ fractionalBits: 20, clip: 1, maxSummands: 64 });
const length = 500;

function at<K, V>(map: ReadonlyMap<K, V>, key: K): V {
  const value = map.get(key);
  if (value === undefined) throw new Error(`test set-up: no entry for ${String(key)}`);
  return value;
}

/** One client's state after round 1: its two key pairs, b_u, its own shares, and what others sent it. */
interface Client {
  readonly id: string;
  /** c_u: encrypts shares. */
  readonly encryption: X25519KeyPair;
  /** s_u: pairwise masks. */
  readonly pairwise: X25519KeyPair;
  readonly selfMaskSeed: Uint8Array;
  /** u's own share of its own secrets (kept, never sent). */
  ownShares?: SharePair;
  /** e_{v,u} for every other v, as the server forwarded them. */
  readonly inbox: EncryptedShare[];
}

/** Rounds 0 and 1: keys advertised, every client's secrets shared 3-out-of-5 and encrypted to each peer. */
async function advertiseAndShareKeys(): Promise<Map<string, Client>> {
  const clients = new Map<string, Client>(
    ids.map((id) => [
      id,
      {
        id,
        encryption: generateX25519KeyPair(),
        pairwise: generateX25519KeyPair(),
        selfMaskSeed: generateMaskSeed(),
        inbox: [],
      },
    ]),
  );
  for (const u of clients.values()) {
    const selfShares = await shareSecret(u.selfMaskSeed, ids.length, threshold);
    const keyShares = await shareSecret(exportX25519PrivateKey(u.pairwise.privateKey), ids.length, threshold);
    const recipients = ids.flatMap((v, i) => {
      const shares = { selfMaskShare: selfShares[i], secretKeyShare: keyShares[i] };
      if (v === u.id) {
        u.ownShares = shares;
        return [];
      }
      return [{ id: v, encryptionPublicKey: at(clients, v).encryption.publicKey, ...shares }];
    });
    const sent = encryptShares({
      context,
      senderId: u.id,
      senderEncryptionKey: u.encryption.privateKey,
      recipients,
    });
    for (const e of sent) at(clients, e.recipientId).inbox.push(e);
  }
  return clients;
}

/** Round 2: y_u from s_{u,v} = KA.agree(s_u^SK, s_v^PK) with every other client and b_u. */
function maskedInput(u: Client, clients: ReadonlyMap<string, Client>, x: Float32Array): Uint32Array {
  const pairwiseSeeds = new Map(
    ids
      .filter((v) => v !== u.id)
      .map((v) => [
        v,
        derivePairwiseSeed(
          {
            ownId: u.id,
            ownPrivateKey: u.pairwise.privateKey,
            peerId: v,
            peerPublicKey: at(clients, v).pairwise.publicKey,
          },
          context,
        ),
      ]),
  );
  const encoded = codec.encode(x).values;
  return maskInput({ context, clientId: u.id, encoded, selfMaskSeed: u.selfMaskSeed, pairwiseSeeds });
}

/**
 * Round 4 at responder w: for each peer, w decrypts e_{peer,w} and returns exactly one share: of b_peer when the
 * server lists the peer as a survivor, of s_peer^SK when it lists it as dropped (never both: the safety rule).
 */
function respond(w: Client, survivors: ReadonlySet<string>, clients: ReadonlyMap<string, Client>) {
  const selfMaskShares = new Map<string, Uint8Array>();
  const secretKeyShares = new Map<string, Uint8Array>();
  for (const peer of ids) {
    const pair =
      peer === w.id
        ? w.ownShares
        : decryptShare({
            context,
            recipientId: w.id,
            recipientEncryptionKey: w.encryption.privateKey,
            senderEncryptionPublicKey: at(clients, peer).encryption.publicKey,
            share: w.inbox.find((e) => e.senderId === peer) as EncryptedShare,
          });
    if (pair === undefined) throw new Error('test set-up: no own shares');
    if (survivors.has(peer)) selfMaskShares.set(peer, pair.selfMaskShare);
    else secretKeyShares.set(peer, pair.secretKeyShare);
  }
  return { selfMaskShares, secretKeyShares };
}

function ringSum(vectors: readonly Uint32Array[]): Uint32Array {
  const sum = new Uint32Array(length);
  for (const v of vectors) addInPlace(sum, v);
  return sum;
}

function updates(seed: number): Map<string, Float32Array> {
  const random = seededRandom(seed);
  return new Map(ids.map((id) => [id, Float32Array.from({ length }, () => 2 * random() - 1)]));
}

describe('ShareKeys to Unmasking, end to end (Bonawitz et al. §5, 5 clients, t = 3)', () => {
  it('2 drop after ShareKeys: the survivors\' shares rebuild b_u and s_v^SK, and the sum is exact', async () => {
    const clients = await advertiseAndShareKeys();
    const xs = updates(42);
    const survivors = ['org-1', 'org-3', 'org-4'];
    const dropped = ['org-2', 'org-5'];
    // Every client masked its input; the dropped clients' y_v never reach the server.
    const masked = new Map(ids.map((id) => [id, maskedInput(at(clients, id), clients, at(xs, id))]));
    const maskedSum = ringSum(survivors.map((id) => at(masked, id)));

    const survivorSet = new Set(survivors);
    const responses = survivors.map((w) => respond(at(clients, w), survivorSet, clients));
    for (const r of responses) {
      expect([...r.selfMaskShares.keys()].sort()).toEqual(survivors);
      expect([...r.secretKeyShares.keys()].sort()).toEqual(dropped);
    }

    const selfMaskSeeds = new Map<string, Uint8Array>();
    for (const u of survivors) {
      const seed = await reconstructSecret(responses.map((r) => at(r.selfMaskShares, u)), threshold);
      expect(seed).toEqual(at(clients, u).selfMaskSeed);
      selfMaskSeeds.set(u, seed);
    }
    const droppedPairwiseSeeds = new Map<string, Map<string, Uint8Array>>();
    for (const v of dropped) {
      const raw = await reconstructSecret(responses.map((r) => at(r.secretKeyShares, v)), threshold);
      const ownPrivateKey = importX25519PrivateKey(raw);
      droppedPairwiseSeeds.set(
        v,
        new Map(
          survivors.map((u) => [
            u,
            derivePairwiseSeed(
              { ownId: v, ownPrivateKey, peerId: u, peerPublicKey: at(clients, u).pairwise.publicKey },
              context,
            ),
          ]),
        ),
      );
    }

    const sum = unmaskSum({ context, maskedSum, survivors, selfMaskSeeds, droppedPairwiseSeeds });
    const plain = ringSum(survivors.map((id) => codec.encode(at(xs, id)).values));
    expect(sum).toEqual(plain);
    expect(maskedSum).not.toEqual(plain);
  });

  it('2 drop after their masked inputs arrived: 3 responders rebuild all 5 b_u, the sum is exact', async () => {
    const clients = await advertiseAndShareKeys();
    const xs = updates(7);
    const maskedSum = ringSum(ids.map((id) => maskedInput(at(clients, id), clients, at(xs, id))));
    const everyone = new Set(ids);
    const responses = ['org-2', 'org-3', 'org-5'].map((w) => respond(at(clients, w), everyone, clients));
    const selfMaskSeeds = new Map<string, Uint8Array>();
    for (const u of ids) {
      selfMaskSeeds.set(u, await reconstructSecret(responses.map((r) => at(r.selfMaskShares, u)), threshold));
    }
    const sum = unmaskSum({ context, maskedSum, survivors: ids, selfMaskSeeds, droppedPairwiseSeeds: new Map() });
    expect(sum).toEqual(ringSum(ids.map((id) => codec.encode(at(xs, id)).values)));
  });

  it('3 drop out: the 2 survivors\' shares are refused (below the threshold, the round fails cleanly)', async () => {
    const clients = await advertiseAndShareKeys();
    const survivorSet = new Set(['org-1', 'org-4']);
    const responses = [...survivorSet].map((w) => respond(at(clients, w), survivorSet, clients));
    await expect(
      reconstructSecret(responses.map((r) => at(r.secretKeyShares, 'org-2')), threshold),
    ).rejects.toMatchObject({ code: 'FEDTL_ERR_MALFORMED_MESSAGE', message: expect.stringMatching(/got 2/) });
  });
});
