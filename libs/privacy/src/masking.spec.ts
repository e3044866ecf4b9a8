import { createHash } from 'node:crypto';
import { seededRandom } from '@fedtl/util';
import { addInPlace, FixedPointCodec } from './fixed-point';
import { derivePairwiseSeed, generateX25519KeyPair } from './key-agreement';
import { generateMaskSeed } from './mask-prg';
import { maskInput, unmaskSum } from './masking';
import { byteHistogram, chiSquareUniformity } from './testing/chi-square';

const context = { runId: 'run-7', round: 2, session: 'plan-a' };
const ids = ['org-1', 'org-2', 'org-3', 'org-4', 'org-5'];
const codec = new FixedPointCodec({ fractionalBits: 20, clip: 1, maxSummands: 64 });

/** map.get(key), failing the test if the key is absent. */
function at<K, V>(map: ReadonlyMap<K, V>, key: K): V {
  const value = map.get(key);
  if (value === undefined) throw new Error(`test set-up: no entry for ${String(key)}`);
  return value;
}

/** The secrets of one round: each client's self-mask seed and its pairwise seed with every other client. */
interface RoundSecrets {
  readonly selfMaskSeeds: Map<string, Uint8Array>;
  /** pairwise.get(u).get(v) = s_{u,v} as u derived it. */
  readonly pairwise: Map<string, Map<string, Uint8Array>>;
}

/** Real X25519 agreement between every pair (each end derives its own copy) and fresh self-mask seeds. */
function freshSecrets(clientIds: readonly string[]): RoundSecrets {
  const keys = new Map(clientIds.map((id) => [id, generateX25519KeyPair()]));
  const pairwise = new Map<string, Map<string, Uint8Array>>();
  for (const u of clientIds) {
    const seeds = new Map<string, Uint8Array>();
    for (const v of clientIds) {
      if (u === v) continue;
      const ownPrivateKey = at(keys, u).privateKey;
      const peerPublicKey = at(keys, v).publicKey;
      seeds.set(v, derivePairwiseSeed({ ownId: u, ownPrivateKey, peerId: v, peerPublicKey }, context));
    }
    pairwise.set(u, seeds);
  }
  return { selfMaskSeeds: new Map(clientIds.map((id) => [id, generateMaskSeed()])), pairwise };
}

/** Fixed seeds (SHA-256 of names), so a statistical test on a masked vector is deterministic. */
function fixedSecrets(clientIds: readonly string[]): RoundSecrets {
  const sha = (text: string) => new Uint8Array(createHash('sha256').update(text).digest());
  const pairwise = new Map(
    clientIds.map((u) => [
      u,
      new Map(clientIds.filter((v) => v !== u).map((v) => [v, sha(`pair:${[u, v].sort().join(':')}`)])),
    ]),
  );
  return { selfMaskSeeds: new Map(clientIds.map((id) => [id, sha(`self:${id}`)])), pairwise };
}

/** Seeded float32 updates in [-1, 1), one per client. */
function updates(clientIds: readonly string[], length: number, seed: number): Map<string, Float32Array> {
  const random = seededRandom(seed);
  return new Map(clientIds.map((id) => [id, Float32Array.from({ length }, () => 2 * random() - 1)]));
}

function maskedUpdate(id: string, x: Float32Array, secrets: RoundSecrets): Uint32Array {
  return maskInput({
    context,
    clientId: id,
    encoded: codec.encode(x).values,
    selfMaskSeed: at(secrets.selfMaskSeeds, id),
    pairwiseSeeds: at(secrets.pairwise, id),
  });
}

function ringSum(vectors: readonly Uint32Array[]): Uint32Array {
  const sum = new Uint32Array(vectors[0].length);
  for (const v of vectors) addInPlace(sum, v);
  return sum;
}

describe('Bonawitz double masking (§4; §5 rounds 2 and 4)', () => {
  const length = 1000;

  it('with 5 clients and no dropout, the unmasked sum equals the plain fixed-point sum exactly', () => {
    const xs = updates(ids, length, 11);
    const secrets = freshSecrets(ids);
    const masked = ids.map((id) => maskedUpdate(id, at(xs, id), secrets));
    const plain = ringSum(ids.map((id) => codec.encode(at(xs, id)).values));

    expect(ringSum(masked)).not.toEqual(plain);
    const unmasked = unmaskSum({
      context,
      maskedSum: ringSum(masked),
      survivors: ids,
      selfMaskSeeds: secrets.selfMaskSeeds,
      droppedPairwiseSeeds: new Map(),
    });
    expect(unmasked).toEqual(plain);

    const decoded = codec.decodeSum(unmasked, ids.length);
    for (let i = 0; i < length; i++) {
      const reference = ids.reduce((sum, id) => sum + at(xs, id)[i], 0);
      expect(Math.abs(decoded[i] - reference)).toBeLessThanOrEqual((ids.length * codec.step) / 2);
    }
  });

  it.each([[['org-3']], [['org-1', 'org-5']], [['org-2', 'org-4']]])(
    'recovers the survivors’ sum exactly when %j drop after masking keys were agreed',
    (dropped) => {
      const xs = updates(ids, length, 12);
      const secrets = freshSecrets(ids);
      const survivors = ids.filter((id) => !dropped.includes(id));
      const maskedSum = ringSum(survivors.map((id) => maskedUpdate(id, at(xs, id), secrets)));
      const selfMaskSeeds = new Map(survivors.map((id) => [id, at(secrets.selfMaskSeeds, id)]));
      // s_{u,v} of each dropped v with each survivor u, as the server would reconstruct it from v's key shares.
      const droppedPairwiseSeeds = new Map(
        dropped.map((v) => [v, new Map(survivors.map((u) => [u, at(at(secrets.pairwise, v), u)]))]),
      );

      const unmasked = unmaskSum({ context, maskedSum, survivors, selfMaskSeeds, droppedPairwiseSeeds });
      expect(unmasked).toEqual(ringSum(survivors.map((id) => codec.encode(at(xs, id)).values)));

      const noDroppedSeeds = new Map<string, Map<string, Uint8Array>>();
      const withoutThem = unmaskSum({
        context,
        maskedSum,
        survivors,
        selfMaskSeeds,
        droppedPairwiseSeeds: noDroppedSeeds,
      });
      expect(withoutThem).not.toEqual(unmasked);
    },
  );

  it('makes a constant update look uniform: chi-square over the 256 byte values, p > 0.001 (fixed seeds)', () => {
    const n = 1 << 14;
    const secrets = fixedSecrets(ids);
    const constant = new Float32Array(n).fill(0.5);
    const encoded = codec.encode(constant).values;
    const masked = maskedUpdate('org-3', constant, secrets);

    const plainTest = chiSquareUniformity(byteHistogram(encoded));
    const maskedTest = chiSquareUniformity(byteHistogram(masked));
    // 65,536 bytes in 256 buckets, 255 degrees of freedom; the critical value at 0.001 is 330.52. The statistic
    // is pinned (the seeds are fixed); its p-value agrees with scipy.stats.chi2.sf(262.3203125, 255).
    expect(plainTest.pValue).toBeLessThan(1e-100);
    expect(maskedTest.degreesOfFreedom).toBe(255);
    expect(maskedTest.pValue).toBeGreaterThan(0.001);
    expect(maskedTest.statistic).toBe(262.3203125);
    expect(maskedTest.pValue).toBeCloseTo(0.3629614362220615, 9);
  });

  it('refuses inputs that would break the safety rule or cannot unmask, naming what is wrong', () => {
    const secrets = fixedSecrets(ids);
    const maskedSum = new Uint32Array(4);
    const survivors = ['org-1', 'org-2'];
    const selfMaskSeeds = new Map(survivors.map((id) => [id, at(secrets.selfMaskSeeds, id)]));
    /** The dropped client v's pairwise seeds with each of `us`. */
    const seedsOf = (v: string, us: readonly string[]) =>
      new Map([[v, new Map(us.map((u) => [u, at(at(secrets.pairwise, v), u)]))]]);

    expect(() =>
      unmaskSum({ context, maskedSum, survivors, selfMaskSeeds, droppedPairwiseSeeds: seedsOf('org-2', ['org-1']) }),
    ).toThrow('got some for survivor "org-2" (with its self-mask seed they would reveal its update)');
    expect(() =>
      unmaskSum({
        context,
        maskedSum,
        survivors,
        selfMaskSeeds: new Map([...selfMaskSeeds, ['org-3', at(secrets.selfMaskSeeds, 'org-3')]]),
        droppedPairwiseSeeds: seedsOf('org-3', survivors),
      }),
    ).toThrow('expected a self-mask seed for each survivor and nobody else, got some for non-survivors [org-3]');
    expect(() =>
      unmaskSum({ context, maskedSum, survivors, selfMaskSeeds, droppedPairwiseSeeds: seedsOf('org-3', ['org-1']) }),
    ).toThrow(`expected dropped client "org-3"'s pairwise seed with each survivor, got none with [org-2]`);
    expect(() =>
      unmaskSum({ context, maskedSum, survivors: ['org-1', 'org-1'], selfMaskSeeds, droppedPairwiseSeeds: new Map() }),
    ).toThrow('expected at least one survivor and no id twice, got [org-1, org-1]');
    expect(() =>
      maskInput({
        context,
        clientId: 'org-1',
        encoded: new Uint32Array(4),
        selfMaskSeed: new Uint8Array(8),
        pairwiseSeeds: new Map(),
      }),
    ).toThrow(
      expect.objectContaining({
        code: 'FEDTL_ERR_MALFORMED_MESSAGE',
        message: expect.stringMatching(/expected a 32-byte seed, got 8 bytes/),
      }),
    );
  });
});
