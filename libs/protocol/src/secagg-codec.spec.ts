import { FedtlError } from '@fedtl/util';
import { decodeJoin, decodeRoundPlan, decodeWelcome, encodeJoin, encodeRoundPlan, encodeWelcome } from './codec';
import { SECAGG_FEATURE, type JoinRequest, type RoundPlan } from './domain';
import { fedtl } from './generated/fedtl';
import {
  decodeAdvertiseKeys,
  decodeKeyDirectory,
  decodeMaskedInput,
  decodeShareDelivery,
  decodeShareKeys,
  decodeUnmaskRequest,
  decodeUnmaskShares,
  encodeAdvertiseKeys,
  encodeKeyDirectory,
  encodeMaskedInput,
  encodeShareDelivery,
  encodeShareKeys,
  encodeUnmaskRequest,
  encodeUnmaskShares,
} from './secagg-codec';

const step = { runId: 'run-1', round: 3, attempt: 2 };
const key = (fill: number) => new Uint8Array(32).fill(fill);
const share = { senderId: 'a', recipientId: 'b', ciphertext: new Uint8Array(98).fill(7) };

describe('secure-aggregation codec', () => {
  it('round-trips every message', () => {
    const advertise = { ...step, clientId: 'a', encryptionPublicKey: key(1), maskPublicKey: key(2) };
    expect(decodeAdvertiseKeys(encodeAdvertiseKeys(advertise))).toEqual(advertise);
    const directory = { ...step, clients: [{ clientId: 'a', encryptionPublicKey: key(1), maskPublicKey: key(2) }] };
    expect(decodeKeyDirectory(encodeKeyDirectory(directory))).toEqual(directory);
    expect(decodeShareKeys(encodeShareKeys({ ...step, clientId: 'a', shares: [share] }))).toEqual({ ...step, clientId: 'a', shares: [share] });
    expect(decodeShareDelivery(encodeShareDelivery({ ...step, shares: [share] }))).toEqual({ ...step, shares: [share] });
    const masked = { ...step, clientId: 'a', maskedVector: Uint32Array.of(0, 1, 0xffffffff, 123456789) };
    expect(decodeMaskedInput(encodeMaskedInput(masked))).toEqual(masked);
    const unmask = { ...step, survivors: ['a', 'b'], dropped: ['c'] };
    expect(decodeUnmaskRequest(encodeUnmaskRequest(unmask))).toEqual(unmask);
    const revealed = { ...step, clientId: 'a', shares: [{ ownerId: 'b', kind: 'self-mask-seed' as const, share: new Uint8Array(33).fill(3) }, { ownerId: 'c', kind: 'mask-private-key' as const, share: new Uint8Array(33).fill(4) }] };
    expect(decodeUnmaskShares(encodeUnmaskShares(revealed))).toEqual(revealed);
  });

  it('writes the masked vector as little-endian uint32 words', () => {
    const bytes = fedtl.v1.MaskedInput.decode(encodeMaskedInput({ ...step, clientId: 'a', maskedVector: Uint32Array.of(0x01020304) })).maskedVector;
    expect(Array.from(bytes)).toEqual([4, 3, 2, 1]);
  });

  it('refuses keys that are not 32 bytes, a vector of partial words, an unknown secret kind and a missing attempt, naming the field', () => {
    const short = encodeAdvertiseKeys({ ...step, clientId: 'a', encryptionPublicKey: key(1).subarray(0, 31), maskPublicKey: key(2) });
    expect(() => decodeAdvertiseKeys(short)).toThrow('AdvertiseKeys.encryptionPublicKey: expected 32 bytes, got 31 bytes');
    const partial = fedtl.v1.MaskedInput.encode({ ...step, clientId: 'a', maskedVector: new Uint8Array(6) }).finish();
    expect(() => decodeMaskedInput(partial)).toThrow('MaskedInput.maskedVector: expected a non-empty whole number of 4-byte words, got 6 bytes');
    const unknownKind = fedtl.v1.UnmaskShares.encode({ ...step, clientId: 'a', shares: [{ ownerId: 'b', kind: 9 as never, share: new Uint8Array(33) }] }).finish();
    expect(() => decodeUnmaskShares(unknownKind)).toThrow(/shares\[0\]\.kind: expected one of/);
    const noAttempt = fedtl.v1.UnmaskRequest.encode({ runId: 'run-1', round: 3, survivors: ['a'] }).finish();
    expect(() => decodeUnmaskRequest(noAttempt)).toThrow(FedtlError);
    expect(() => decodeUnmaskRequest(noAttempt)).toThrow('UnmaskRequest.attempt: expected a positive integer, got 0');
  });
});

describe('secure aggregation in Join, Welcome and RoundPlan', () => {
  const join: JoinRequest = {
    clientId: 'org-1', token: '', protocolVersion: 1, backbone: { id: 'use-lite', contentHash: 'a'.repeat(64), dim: 512 }, labels: ['neg', 'pos'],
    numTrainExamples: 10, numTestExamples: 2, features: [SECAGG_FEATURE],
    privacyPolicy: { requireSecureAggregation: true, minOtherContributors: 2, minExamples: 5, minBatchSize: 8, maxRounds: 3 },
  };
  const params = { attempt: 1, threshold: 3, numSelected: 4, fractionalBits: 22, clip: 100, weightBound: 300, weightCap: 500, metricSlots: ['loss', 'accuracy'], ringBits: 32 };
  const plan: RoundPlan = { runId: 'run-1', round: 1, weights: [], config: { localEpochs: 1, batchSize: 8, learningRate: 0.1, optimizer: 'sgd', seed: 1 }, secureAggregation: params };

  it('round-trips the features, the policy, the run terms and the round parameters', () => {
    expect(decodeJoin(encodeJoin(join))).toEqual(join);
    const welcome = { runId: 'run-1', clientId: 'org-1', protocolVersion: 1, model: { inputDim: 4, adapterWidth: 0, head: 'linear' as const, headHidden: 0, labels: ['a'] }, currentRound: 0, maxMessageBytes: 0, secureAggregation: { protocol: SECAGG_FEATURE, minThreshold: 3 } };
    expect(decodeWelcome(encodeWelcome(welcome))).toEqual(welcome);
    expect(decodeRoundPlan(encodeRoundPlan(plan))).toEqual(plan);
  });

  it('refuses a threshold outside [2, numSelected] and a non-positive clip', () => {
    expect(() => decodeRoundPlan(encodeRoundPlan({ ...plan, secureAggregation: { ...params, threshold: 5 } }))).toThrow('RoundPlan.secureAggregation.threshold: expected an integer in [2, numSelected = 4], got 5');
    expect(() => decodeRoundPlan(encodeRoundPlan({ ...plan, secureAggregation: { ...params, threshold: 1 } }))).toThrow(/threshold/);
    expect(() => decodeRoundPlan(encodeRoundPlan({ ...plan, secureAggregation: { ...params, clip: -1 } }))).toThrow('RoundPlan.secureAggregation.clip: expected a positive finite number, got -1');
  });
});
