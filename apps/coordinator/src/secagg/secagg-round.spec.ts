// SecureAggregationRound driven by real SecAggParticipants in one process: every message is encoded and decoded
// as on the wire, only the sockets are missing. The reference is the weighted mean computed in float64.
import {
  decodeKeyDirectory,
  decodeShareDelivery,
  decodeUnmaskRequest,
  SecAggParticipant,
  type SecAggParams,
  type UnmaskShares,
} from '@fedtl/protocol';
import { PERMISSIVE_POLICY } from '@fedtl/privacy';
import { FedtlError } from '@fedtl/util';
import { SecureAggregationRound, type SecAggOutcome, type SecAggRequestEvent } from './secagg-round';
import { secAggParamsFor } from './secagg-terms';

const SIZES = [6, 2];
const context = { runId: 'run-1', round: 1, session: 'a'.repeat(64) };

interface Script {
  /** Clients that stop answering after their masked input was taken (the coordinator sees them disconnect). */
  dropAfterInput?: string[];
  /** A client that flips a byte of every share it reveals. */
  liar?: string;
  /** Clients that disconnect without acknowledging their ShareDelivery (the acknowledgement never comes). */
  vanishAtDelivery?: string[];
  /** Replaces a client's advertised mask key. */
  maskKeyOf?: Record<string, Uint8Array>;
}

function updateOf(index: number): { deltas: Float32Array[]; numExamples: number; metrics: Record<string, number> } {
  return {
    deltas: SIZES.map((size, t) => Float32Array.from({ length: size }, (_, i) => Math.sin(index * 7 + t * 3 + i) * 0.5)),
    numExamples: 10 * (index + 1),
    metrics: { loss: 0.5 + 0.1 * index, accuracy: 0.6 + 0.05 * index },
  };
}

function expectedMean(ids: readonly string[], clients: readonly string[]): Float64Array {
  const out = new Float64Array(SIZES.reduce((a, b) => a + b, 0));
  let total = 0;
  for (const id of ids) {
    const update = updateOf(clients.indexOf(id));
    const flat = update.deltas.flatMap((d) => Array.from(d));
    flat.forEach((v, i) => (out[i] += update.numExamples * v));
    total += update.numExamples;
  }
  return out.map((v) => v / total);
}

async function runRound(clients: string[], script: Script = {}, threshold = 0, phaseTimeoutMs = 5_000): Promise<{ outcome: SecAggOutcome; round: SecureAggregationRound; params: SecAggParams }> {
  const declared = new Map(clients.map((id, i) => [id, updateOf(i).numExamples]));
  const params = secAggParamsFor({ attempt: 1, declaredExamples: clients.map((id) => declared.get(id) as number), threshold, maxClientShare: 1, maxUpdateNorm: 10 });
  const participants = new Map(clients.map((id) => [id, new SecAggParticipant({ clientId: id, ...context, params, policy: PERMISSIVE_POLICY })]));
  const gone = new Set<string>();
  // eslint-disable-next-line prefer-const
  let round: SecureAggregationRound;
  const deliver = async (id: string, event: SecAggRequestEvent, payload: Uint8Array) => {
    const participant = participants.get(id) as SecAggParticipant;
    if (event === 'secagg-keys') round.handleShares(id, await participant.onKeyDirectory(decodeKeyDirectory(payload)));
    if (event === 'secagg-share-delivery') {
      participant.onShareDelivery(decodeShareDelivery(payload));
      round.handleMaskedInput(id, participant.maskedInput(updateOf(clients.indexOf(id))));
      if (script.dropAfterInput?.includes(id)) {
        gone.add(id);
        round.fail(id, 'FEDTL_ERR_ROUND_TIMEOUT', `client "${id}" disconnected`);
      }
    }
    if (event === 'secagg-unmask') {
      const reply: UnmaskShares = participant.onUnmaskRequest(decodeUnmaskRequest(payload));
      if (id === script.liar) reply.shares.forEach((s) => (s.share[0] ^= 0xff));
      round.handleUnmaskShares(id, reply);
    }
  };
  round = new SecureAggregationRound({
    context,
    params,
    selected: clients,
    tensorSizes: SIZES,
    send: async (id, event, payload) => {
      if (gone.has(id)) throw new FedtlError('FEDTL_ERR_ROUND_TIMEOUT', `client "${id}" is not connected`);
      if (event === 'secagg-share-delivery' && script.vanishAtDelivery?.includes(id)) {
        gone.add(id);
        setImmediate(() => round.fail(id, 'FEDTL_ERR_ROUND_TIMEOUT', `client "${id}" disconnected`));
        return new Promise<void>(() => undefined);
      }
      setImmediate(() => void deliver(id, event, payload).catch(() => undefined));
    },
    phaseTimeoutMs,
    inputDeadlineMs: phaseTimeoutMs,
    minInputs: 2,
    declaredExamples: declared,
  });
  const running = round.run();
  for (const id of clients) {
    const advertised = (participants.get(id) as SecAggParticipant).advertise();
    const maskPublicKey = script.maskKeyOf?.[id] ?? advertised.maskPublicKey;
    try {
      round.handleAdvertise(id, { ...advertised, maskPublicKey });
    } catch {
      // refused: the sender is out, the round goes on
    }
  }
  return { outcome: await running, round, params };
}

describe('SecureAggregationRound', () => {
  const clients = ['org-1', 'org-2', 'org-3', 'org-4', 'org-5'];

  it('unmasks the weighted FedAvg mean of every client, within the fixed-point step', async () => {
    const { outcome, params } = await runRound(clients);
    expect(outcome.error).toBeUndefined();
    expect(outcome.survivors).toEqual(clients);
    const expected = expectedMean(clients, clients);
    const got = (outcome.aggregate?.meanDeltas ?? []).flatMap((d) => Array.from(d));
    got.forEach((v, i) => expect(Math.abs(v - expected[i])).toBeLessThan(clients.length * 2 ** -params.fractionalBits));
    expect(outcome.aggregate?.totalWeight).toBeCloseTo(150, 3);
  });

  it('keeps a client whose masked input is in the sum among the survivors, even when it disconnects before unmasking', async () => {
    // The regression: dropping such a client from U3 left its self mask in the sum, and garbage was committed.
    const { outcome } = await runRound(clients, { dropAfterInput: ['org-2'] });
    expect(outcome.error).toBeUndefined();
    expect(outcome.survivors).toEqual(clients);
    const expected = expectedMean(clients, clients);
    (outcome.aggregate?.meanDeltas ?? []).flatMap((d) => Array.from(d)).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
  });

  it('discards the attempt when a survivor reveals wrong shares: two subsets of t shares disagree', async () => {
    const { outcome } = await runRound(clients, { liar: 'org-3' });
    expect(outcome.aggregate).toBeNull();
    expect(outcome.error?.code).toBe('FEDTL_ERR_SECAGG_VIOLATION');
    expect(outcome.error?.message).toMatch(/two subsets of 3 that rebuild different secrets/);
  });

  it('refuses a sum no honest inputs could give when exactly t shares leave nothing to cross-check', async () => {
    // Three clients, t = 3: every share is needed, so a wrong one can only show in the decoded sum.
    const { outcome } = await runRound(clients.slice(0, 3), { liar: 'org-3' }, 3);
    expect(outcome.aggregate).toBeNull();
    expect(outcome.error?.code).toBe('FEDTL_ERR_SECAGG_VIOLATION');
    expect(outcome.error?.message).toMatch(/expected an unmasked sum that 3 honest inputs could give/);
  });

  it('does not wait for the acknowledgement of a client that disconnected: the phase ends on the others\' answers', async () => {
    const started = Date.now();
    const { outcome } = await runRound(clients, { vanishAtDelivery: ['org-4'] }, 0, 60_000);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(outcome.error).toBeUndefined();
    expect(outcome.survivors).toEqual(['org-1', 'org-2', 'org-3', 'org-5']);
    const expected = expectedMean(outcome.survivors, clients);
    (outcome.aggregate?.meanDeltas ?? []).flatMap((d) => Array.from(d)).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
  }, 30_000);

  it('ends the attempt cleanly with FEDTL_ERR_SECAGG_FAILED when more than n − t clients drop, unmasking nothing', async () => {
    const { outcome } = await runRound(clients, { vanishAtDelivery: ['org-1', 'org-2', 'org-3'] });
    expect(outcome.aggregate).toBeNull();
    expect(outcome.survivors).toEqual([]);
    expect(outcome.error?.code).toBe('FEDTL_ERR_SECAGG_FAILED');
    expect(outcome.error?.message).toBe('round 1 attempt 1: expected at least 3 clients (threshold t = 3, quorum 2) that sent their masked input (round 2), got 2');
  });

  it('refuses a low-order or copied public key at once, so only its sender is out of the round', async () => {
    const lowOrder = new Uint8Array(32); // the all-zero point: every key agreement with it gives the zero secret
    const { outcome } = await runRound(clients, { maskKeyOf: { 'org-5': lowOrder } });
    expect(outcome.error).toBeUndefined();
    expect(outcome.survivors).toEqual(clients.slice(0, 4));
    expect(outcome.failures).toEqual([expect.objectContaining({ clientId: 'org-5', code: 'FEDTL_ERR_SECAGG_VIOLATION' })]);
    expect(outcome.failures[0].message).toMatch(/expected a usable X25519 mask public key from "org-5"/);
  });
});
