// SecAggParticipant (Bonawitz et al., CCS 2017, §5) driven by an honest in-process coordinator (SecAggRelay):
// dropouts at every phase, the safety rule of §4, and the binding of every key to the plan's session.
import {
  chooseFractionalBits,
  FixedPointCodec,
  packContribution,
  PERMISSIVE_POLICY,
  planSession,
  type PrivacyPolicy,
  type SecAggAggregate,
  type SecAggContribution,
} from '@fedtl/privacy';
import type { SecAggParams } from './domain';
import type { MaskedInput, ShareKeys, UnmaskRequest, UnmaskShares } from './secagg-domain';
import { FedtlError, seededRandom } from '@fedtl/util';
import { SecAggParticipant } from './secagg-participant';
import { UnmaskLedger } from './unmask-ledger';
import { SecAggRelay, type RelayResult } from './testing/secagg-relay';

const ids = ['org-1', 'org-2', 'org-3', 'org-4', 'org-5'];
const runId = 'run-secagg';
const round = 3;
const session = planSession(new TextEncoder().encode('the round plan as sent'));
const sizes = [6, 4];
const clip = 1;
const params: SecAggParams = {
  attempt: 1,
  threshold: 3,
  numSelected: ids.length,
  fractionalBits: chooseFractionalBits(ids.length, clip),
  clip,
  weightBound: 80,
  weightCap: 80,
  metricSlots: ['loss', 'accuracy'],
  ringBits: 32,
};
const codec = new FixedPointCodec({ fractionalBits: params.fractionalBits, clip, maxSummands: ids.length });

/** Each client's update: seeded deltas (org-2's over the L2 bound, so clipping is exercised), 10–120 examples. */
function updates(): Map<string, SecAggContribution> {
  const random = seededRandom(11);
  return new Map(
    ids.map((id, k) => {
      const scale = id === 'org-2' ? 2 : 0.3;
      const deltas = sizes.map((n) => Float32Array.from({ length: n }, () => scale * (2 * random() - 1)));
      return [id, { deltas, numExamples: [10, 120, 35, 60, 80][k], metrics: { loss: 0.2 + 0.1 * k, accuracy: 0.5 + 0.05 * k } }];
    }),
  );
}

/** The weighted FedAvg mean of the survivors' clipped deltas, computed in float64 apart from the privacy lib. */
function plainWeightedMean(contributions: SecAggContribution[]): { mean: number[]; loss: number } {
  const total = sizes.reduce((a, b) => a + b, 0);
  const sum = new Array<number>(total).fill(0);
  let weights = 0;
  let loss = 0;
  for (const c of contributions) {
    const flat = c.deltas.flatMap((d) => Array.from(d));
    const norm = Math.hypot(...flat);
    const factor = Math.min(1, clip / norm);
    const w = Math.min(c.numExamples, params.weightCap);
    flat.forEach((x, i) => (sum[i] += w * factor * x));
    weights += w;
    loss += w * c.metrics.loss;
  }
  return { mean: sum.map((s) => s / weights), loss: loss / weights };
}

type Phase = 'advertise' | 'shares' | 'masked-input' | 'unmask';

function participant(clientId: string, overrides: { session?: string; policy?: PrivacyPolicy; ledger?: UnmaskLedger } = {}): SecAggParticipant {
  const ledger = overrides.ledger ? { modelState: 'round-3-model', unmaskLedger: overrides.ledger } : {};
  return new SecAggParticipant({ clientId, runId, round, params, session: overrides.session ?? session, policy: overrides.policy ?? PERMISSIVE_POLICY, ...ledger });
}

/** Participants up to the point where the relay holds every masked input; `dropAfter` maps a client to the step it vanished after. */
async function upToMaskedInputs(dropAfter: ReadonlyMap<string, Phase>, sessions: ReadonlyMap<string, string> = new Map(), ledgers?: ReadonlyMap<string, UnmaskLedger>) {
  const relay = new SecAggRelay({ context: { runId, round, session }, params, sizes });
  const xs = updates();
  const clients = new Map(ids.map((id) => [id, participant(id, { session: sessions.get(id), ledger: ledgers?.get(id) })]));
  const gone = (id: string, phase: Phase) => dropAfter.get(id) === phase;
  const directory = relay.keyDirectory([...clients.values()].map((p) => p.advertise()));
  const shareKeys: ShareKeys[] = [];
  for (const p of clients.values()) if (!gone(p.clientId, 'advertise')) shareKeys.push(await p.onKeyDirectory(directory));
  const deliveries = relay.deliverShares(shareKeys);
  const masked: MaskedInput[] = [];
  for (const [id, delivery] of deliveries) {
    if (gone(id, 'shares')) continue;
    const p = clients.get(id) as SecAggParticipant;
    p.onShareDelivery(delivery);
    if (!gone(id, 'masked-input')) masked.push(p.maskedInput(xs.get(id) as SecAggContribution));
  }
  const request = relay.unmaskRequest(masked);
  return { relay, clients, xs, directory, request, masked };
}

async function runRound(dropAfter: ReadonlyMap<string, Phase>): Promise<RelayResult & { aggregate: SecAggAggregate; xs: Map<string, SecAggContribution> }> {
  const { relay, clients, xs, request } = await upToMaskedInputs(dropAfter);
  const responses: UnmaskShares[] = request.survivors
    .filter((id) => dropAfter.get(id) !== 'unmask')
    .map((id) => (clients.get(id) as SecAggParticipant).onUnmaskRequest(request));
  const result = await relay.finish(responses);
  return { ...result, aggregate: relay.aggregate(result.sum), xs };
}

function expectViolation(act: () => unknown, message: RegExp): void {
  let thrown: unknown;
  try {
    act();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(FedtlError);
  expect(thrown).toMatchObject({ code: 'FEDTL_ERR_SECAGG_VIOLATION', message: expect.stringMatching(message) });
}

describe('SecAggParticipant with an honest coordinator (n = 5, t = 3)', () => {
  const cases: Array<[string, Array<[string, Phase]>]> = [
    ['nobody drops', []],
    ['2 drop after advertising', [['org-2', 'advertise'], ['org-5', 'advertise']]],
    ['2 drop after sharing keys', [['org-1', 'shares'], ['org-4', 'shares']]],
    ['2 drop before their masked input', [['org-3', 'masked-input'], ['org-5', 'masked-input']]],
    ['1 drops after advertising, 1 before its masked input', [['org-2', 'advertise'], ['org-4', 'masked-input']]],
    ['1 drops after sharing, 1 after its masked input (no unmask answer)', [['org-5', 'shares'], ['org-1', 'unmask']]],
  ];
  it.each(cases)('%s: the sum is exact in the ring and the decoded weighted mean is the plain one', async (_name, drops) => {
    const dropAfter = new Map(drops);
    const { ringSum, aggregate, survivors, xs } = await runRound(dropAfter);
    const expectedSurvivors = ids.filter((id) => !['advertise', 'shares', 'masked-input'].includes(dropAfter.get(id) ?? ''));
    expect(survivors).toEqual(expectedSurvivors);
    const contributions = survivors.map((id) => xs.get(id) as SecAggContribution);

    // Exact: the unmasked ring sum is the sum of the survivors' encoded vectors, every mask removed.
    const expectedRing = new Uint32Array(ringSum.length);
    for (const c of contributions) {
      const encoded = codec.encode(packContribution(c, { clip, weightBound: params.weightBound, weightCap: params.weightCap, metricSlots: params.metricSlots }).values).values;
      for (let i = 0; i < encoded.length; i++) expectedRing[i] = expectedRing[i] + encoded[i];
    }
    expect(ringSum).toEqual(expectedRing);

    // Within the fixed-point step: each decoded sum is off by at most N·step/2, the mean by that over Σ w/W.
    const plain = plainWeightedMean(contributions);
    const shareSum = contributions.reduce((s, c) => s + Math.min(c.numExamples, params.weightCap), 0) / params.weightBound;
    const bound = (survivors.length * codec.step) / shareSum;
    const got = aggregate.meanDeltas.flatMap((d) => Array.from(d));
    got.forEach((value, i) => expect(Math.abs(value - plain.mean[i])).toBeLessThanOrEqual(bound * (1 + Math.abs(plain.mean[i])) + 1e-7));
    expect(Math.abs(aggregate.metrics.loss - plain.loss)).toBeLessThanOrEqual(bound * (1 + plain.loss) + 1e-7);
    expect(aggregate.totalWeight).toBeCloseTo(shareSum * params.weightBound, 3);
  });

  it('beyond n − t dropouts the participants refuse: a directory, a delivery and an unmask request below t', async () => {
    const a = participant('org-1');
    const b = participant('org-2');
    const directory = { runId, round, attempt: 1, clients: [a.advertise(), b.advertise()] };
    await expect(a.onKeyDirectory(directory)).rejects.toMatchObject({ code: 'FEDTL_ERR_SECAGG_VIOLATION', message: expect.stringMatching(/KeyDirectory of 3 \(the threshold\) to 5 \(the selected\) clients, got 2/) });

    const three = new Map<string, Phase>([['org-2', 'shares'], ['org-3', 'shares'], ['org-4', 'shares']]);
    // An honest relay stops the attempt at 2 maskers; a coordinator that asks anyway is refused by each of them.
    await expect(upToMaskedInputs(three)).rejects.toThrow(/at least 3 clients \(the threshold\) that sent masked inputs, got 2/);

    const { clients, request } = await upToMaskedInputs(new Map([['org-3', 'masked-input'], ['org-4', 'masked-input']]));
    const belowThreshold: UnmaskRequest = { ...request, survivors: ['org-1', 'org-5'], dropped: ['org-2', 'org-3', 'org-4'] };
    expectViolation(() => (clients.get('org-1') as SecAggParticipant).onUnmaskRequest(belowThreshold), /at least 3 survivors \(the threshold\), got 2/);

    const p = participant('org-1');
    const others = ids.slice(1).map((id) => participant(id));
    const dir = { runId, round, attempt: 1, clients: [p.advertise(), ...others.map((o) => o.advertise())] };
    await p.onKeyDirectory(dir);
    const fromOne = (await others[0].onKeyDirectory(dir)).shares.filter((s) => s.recipientId === 'org-1');
    expectViolation(() => p.onShareDelivery({ runId, round, attempt: 1, shares: fromOne }), /at least 3 clients \(the threshold\) in U2, got 2/);
  });
});

describe('SecAggParticipant: the safety rule (Bonawitz et al. §4) and the order of messages', () => {
  /** All five mask; org-5's masked input "did not arrive": survivors org-1..4, dropped org-5. */
  async function ready() {
    const { clients, request } = await upToMaskedInputs(new Map());
    const honest: UnmaskRequest = { ...request, survivors: ['org-1', 'org-2', 'org-3', 'org-4'], dropped: ['org-5'] };
    return { p: clients.get('org-1') as SecAggParticipant, honest };
  }

  it('refuses, revealing nothing, a request naming a client both survivor and dropped', async () => {
    const { p, honest } = await ready();
    expectViolation(() => p.onUnmaskRequest({ ...honest, survivors: [...honest.survivors, 'org-5'] }), /no client both survivor and dropped, got \[org-5\]/);
    // Nothing was revealed or spent: the honest request is still answered, one share per listed client.
    const reply = p.onUnmaskRequest(honest);
    expect(reply.shares.map((s) => [s.ownerId, s.kind])).toEqual([
      ['org-1', 'self-mask-seed'], ['org-2', 'self-mask-seed'], ['org-3', 'self-mask-seed'], ['org-4', 'self-mask-seed'], ['org-5', 'mask-private-key'],
    ]);
  });

  it('answers a repeated request with the same shares, and refuses a second one that asks for the other secret', async () => {
    const { p, honest } = await ready();
    const first = p.onUnmaskRequest(honest);
    expect(p.onUnmaskRequest({ ...honest, survivors: [...honest.survivors].reverse() })).toBe(first);
    // org-4's b share was revealed; now its s^SK share is asked for (org-4 "dropped", org-5 "survived").
    const flipped = { ...honest, survivors: ['org-1', 'org-2', 'org-3', 'org-5'], dropped: ['org-4'] };
    expectViolation(() => p.onUnmaskRequest(flipped), /expected a second UnmaskRequest to repeat the first .* both secrets of one client/);
  });

  it('refuses a request that lists it dropped, leaves it out, names an outsider, or leaves out a member of U2', async () => {
    const { p, honest } = await ready();
    expectViolation(() => p.onUnmaskRequest({ ...honest, survivors: ['org-2', 'org-3', 'org-4'], dropped: ['org-1', 'org-5'] }), /"org-1" among the survivors/);
    expectViolation(() => p.onUnmaskRequest({ ...honest, survivors: ['org-2', 'org-3', 'org-4'], dropped: ['org-5'] }), /"org-1" among the survivors/);
    expectViolation(() => p.onUnmaskRequest({ ...honest, dropped: ['org-5', 'org-9'] }), /only members of U2 .* got \[org-9\]/);
    expectViolation(() => p.onUnmaskRequest({ ...honest, dropped: [] }), /every member of U2 listed as survivor or dropped, got none for \[org-5\]/);
    expectViolation(() => p.onUnmaskRequest({ ...honest, survivors: [...honest.survivors, 'org-2'] }), /each client once .* got \[org-2\]/);
  });

  it('refuses messages out of order and of another run, round or attempt', async () => {
    const p = participant('org-1');
    const delivery = { runId, round, attempt: 1, shares: [] };
    expectViolation(() => p.onShareDelivery(delivery), /ShareDelivery out of order: this client is waiting for advertise\(\)/);
    p.advertise();
    expectViolation(() => p.onUnmaskRequest({ runId, round, attempt: 1, survivors: [], dropped: [] }), /UnmaskRequest out of order: .*waiting for the KeyDirectory/);
    expect(() => p.onShareDelivery({ ...delivery, runId: 'other-run' })).toThrow(expect.objectContaining({ code: 'FEDTL_ERR_WRONG_RUN' }));
    expect(() => p.onShareDelivery({ ...delivery, round: round + 1 })).toThrow(expect.objectContaining({ code: 'FEDTL_ERR_WRONG_ROUND' }));
    expect(() => p.onShareDelivery({ ...delivery, attempt: 2 })).toThrow(expect.objectContaining({ code: 'FEDTL_ERR_WRONG_ROUND', message: expect.stringMatching(/attempt 1, got round 3 attempt 2/) }));
    expect(() => p.maskedInput(updates().get('org-1') as SecAggContribution)).toThrow(/masked input out of order/);
  });

  it('refuses a KeyDirectory without its own keys, with another key for it, or with an id twice', async () => {
    const p = participant('org-1');
    const own = p.advertise();
    const others = ids.slice(1).map((id) => participant(id).advertise());
    const step = { runId, round, attempt: 1 };
    await expect(p.onKeyDirectory({ ...step, clients: others })).rejects.toMatchObject({ code: 'FEDTL_ERR_SECAGG_VIOLATION', message: expect.stringMatching(/to list "org-1", got/) });
    const forged = { ...own, maskPublicKey: others[0].maskPublicKey };
    await expect(p.onKeyDirectory({ ...step, clients: [forged, ...others] })).rejects.toThrow(/with the keys it advertised, got other keys/);
    await expect(p.onKeyDirectory({ ...step, clients: [own, others[0], others[0], others[1]] })).rejects.toThrow(/each client once .* got \[org-2\]/);
    // None of those refusals moved it on: the honest directory is still taken.
    expect((await p.onKeyDirectory({ ...step, clients: [own, ...others] })).shares).toHaveLength(4);
  });

  it('refuses a delivery with a share for another client, from outside U1, or from one sender twice', async () => {
    const all = ids.map((id) => participant(id));
    const directory = { runId, round, attempt: 1, clients: all.map((p) => p.advertise()) };
    const sent = await Promise.all(all.map((p) => p.onKeyDirectory(directory)));
    const toOrg1 = sent.flatMap((s) => s.shares.filter((e) => e.recipientId === 'org-1'));
    const step = { runId, round, attempt: 1 };
    const p = all[0];
    const toOrg3 = sent[1].shares.filter((e) => e.recipientId === 'org-3');
    expectViolation(() => p.onShareDelivery({ ...step, shares: [...toOrg1, ...toOrg3] }), /addressed to "org-1", got \[org-2→org-3\]/);
    expectViolation(() => p.onShareDelivery({ ...step, shares: [...toOrg1, { ...toOrg1[0], senderId: 'org-9' }] }), /other members of U1 only, got some from \[org-9\]/);
    expectViolation(() => p.onShareDelivery({ ...step, shares: [...toOrg1, toOrg1[0]] }), /one share from each sender, got \[org-2\]/);
    p.onShareDelivery({ ...step, shares: toOrg1 });
    expect([...p.sharedKeysWith].sort()).toEqual(ids);
  });

  it('refuses at construction a ring other than 2^32 and a threshold below the policy', () => {
    expect(() => new SecAggParticipant({ clientId: 'org-1', runId, round, params: { ...params, ringBits: 64 }, session, policy: PERMISSIVE_POLICY })).toThrow(
      expect.objectContaining({ code: 'FEDTL_ERR_SECAGG_VIOLATION', message: expect.stringMatching(/expected ring_bits 32 .* got 64/) }),
    );
    const policy = { ...PERMISSIVE_POLICY, minOtherContributors: 3 };
    expect(() => participant('org-1', { policy })).toThrow(expect.objectContaining({ code: 'FEDTL_ERR_POLICY_REFUSED', message: expect.stringMatching(/at least 4 .* got 3/) }));
  });
});

describe('SecAggParticipant: every key is bound to the plan (the session)', () => {
  it('a client given another plan cannot be unmasked: its shares do not open for the others, who reveal nothing', async () => {
    const isolated = planSession(new TextEncoder().encode('another round plan, sent to org-5 alone'));
    const { clients, request } = await upToMaskedInputs(new Map(), new Map([['org-5', isolated]]));
    for (const id of ids.slice(0, 4)) {
      expectViolation(() => (clients.get(id) as SecAggParticipant).onUnmaskRequest(request), /share from "org-5" cannot be opened, nothing is revealed/);
    }
    expectViolation(() => (clients.get('org-5') as SecAggParticipant).onUnmaskRequest(request), /share from "org-1" cannot be opened/);
  });

  it('masks made under one plan do not cancel under another: the sum unmasked with the wrong session is noise', async () => {
    const dropAfter = new Map<string, Phase>([['org-2', 'masked-input']]);
    const { clients, directory, request, xs, masked } = await upToMaskedInputs(dropAfter);
    const responses = request.survivors.map((id) => (clients.get(id) as SecAggParticipant).onUnmaskRequest(request));
    const otherPlan = planSession(new TextEncoder().encode('the plan the coordinator pretends it sent'));
    const wrong = new SecAggRelay({ context: { runId, round, session: otherPlan }, params, sizes });
    wrong.keyDirectory(directory.clients.map((c) => ({ runId, round, attempt: 1, ...c })));
    wrong.deliverShares([...request.survivors, ...request.dropped].map((id) => ({ runId, round, attempt: 1, clientId: id, shares: [] })));
    wrong.unmaskRequest(masked);
    const { sum } = await wrong.finish(responses);
    const plain = new Float64Array(sum.length);
    for (const id of request.survivors) {
      packContribution(xs.get(id) as SecAggContribution, { clip, weightBound: params.weightBound, weightCap: params.weightCap, metricSlots: params.metricSlots }).values.forEach((v, i) => (plain[i] += v));
    }
    const farOff = Array.from(sum).filter((v, i) => Math.abs(v - plain[i]) > 0.01).length;
    expect(farOff).toBeGreaterThan(sum.length * 0.9);
  });
});

describe('the unmask ledger across round attempts', () => {
  it('helps unmask a round\'s model for one survivor set only: a retry with other survivors would reveal the difference', async () => {
    const ledgers = new Map(ids.map((id) => [id, new UnmaskLedger()]));
    // Attempt 1: everyone's input is in the sum, and every client answers.
    const first = await upToMaskedInputs(new Map(), new Map(), ledgers);
    for (const id of first.request.survivors) (first.clients.get(id) as SecAggParticipant).onUnmaskRequest(first.request);
    // Attempt 2 of the same model (fresh keys, same inputs): org-5 drops before its masked input. Its x would be
    // the difference of the two sums, so every other client refuses, revealing nothing.
    const second = await upToMaskedInputs(new Map([['org-5', 'masked-input' as Phase]]), new Map(), ledgers);
    expect(second.request.survivors).toEqual(['org-1', 'org-2', 'org-3', 'org-4']);
    for (const id of second.request.survivors) {
      expectViolation(() => (second.clients.get(id) as SecAggParticipant).onUnmaskRequest(second.request), /unmasked again only with the survivors it was unmasked with before/);
    }
    // Attempt 3 with the same survivors as the first gives the same sum again: answered.
    const third = await upToMaskedInputs(new Map(), new Map(), ledgers);
    for (const id of third.request.survivors) expect((third.clients.get(id) as SecAggParticipant).onUnmaskRequest(third.request).shares).toHaveLength(5);
  });
});
