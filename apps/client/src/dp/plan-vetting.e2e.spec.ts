// A plan whose vetting throws (the privacy policy, the budget), in the clear and under secure aggregation, is
// answered at once with 'round-failed' and a clear code: not a round left to its deadline, not an unhandled
// rejection that stops the client. And a round the budget refuses only at record time (another process sharing
// the --dp-ledger recorded meanwhile) is answered round-failed FEDTL_ERR_PRIVACY_BUDGET with nothing released.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Server, type Socket } from 'socket.io';
import { initialWeights } from '@fedtl/model';
import { RdpAccountant, chooseFractionalBits } from '@fedtl/privacy';
import { SECAGG_FEATURE, decodeError, encodeAck, encodeJoinReply, encodeRoundPlan, type ProtocolError, type SecAggParams, type TrainingConfig } from '@fedtl/protocol';
import { configureLogging } from '@fedtl/util';
import { useTestSandbox, waitUntil } from '@fedtl/util/testing';
import { FIXTURE_DIM, startFixtureClient } from '../testing/client-fixtures';
import { ClientPrivacyLedger } from './client-privacy-ledger';

const model = { inputDim: FIXTURE_DIM, adapterWidth: 4, head: 'linear' as const, headHidden: 8, labels: ['no', 'yes'] };
/** The fixture's 48 training rows, batch 12: q = 0.25, one epoch of 4 steps, σ = 1.1. */
const dpSgd: TrainingConfig = { localEpochs: 1, batchSize: 12, learningRate: 0.05, optimizer: 'sgd', seed: 1, recordClipNorm: 1, recordNoiseMultiplier: 1.1 };
const epsilonOfRounds = (rounds: number) => new RdpAccountant().compose({ samplingRate: 0.25, noiseMultiplier: 1.1, steps: 4 * rounds }).epsilon(1e-5);
const secAggParams: SecAggParams = { attempt: 1, threshold: 2, numSelected: 3, fractionalBits: chooseFractionalBits(3, 10), clip: 10, weightBound: 48, weightCap: 48, metricSlots: [], ringBits: 32 };

interface Seen {
  events: string[];
  failures: ProtocolError[];
}

describe('the client vetting a plan', () => {
  const sandbox = useTestSandbox();
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  beforeAll(() => configureLogging({ level: 'error' }));
  beforeEach(() => {
    unhandled.length = 0;
    process.on('unhandledRejection', onUnhandled);
  });
  afterEach(() => {
    process.off('unhandledRejection', onUnhandled);
  });

  /** A stand-in coordinator that sends one plan (under secure aggregation or not) and records what comes back. */
  async function standIn(config: TrainingConfig, secure: boolean): Promise<{ port: number; seen: Seen }> {
    const http = createServer();
    const server = new Server(http, { serveClient: false, maxHttpBufferSize: 1e7 });
    sandbox.defer(() => new Promise((resolve) => server.close(resolve)));
    const seen: Seen = { events: [], failures: [] };
    server.on('connection', (socket: Socket) => {
      socket.on('join', (_payload: Uint8Array, reply: (r: Uint8Array) => void) => {
        const secureAggregation = secure ? { secureAggregation: { protocol: SECAGG_FEATURE, minThreshold: 2 } } : {};
        reply(encodeJoinReply({ ok: true, welcome: { runId: 'run-1', clientId: 'org-1', protocolVersion: 1, model, currentRound: 0, ...secureAggregation } }));
        const plan = { runId: 'run-1', round: 1, weights: initialWeights(model, 1), config, ...(secure ? { secureAggregation: secAggParams } : {}) };
        socket.emit('round-plan', encodeRoundPlan(plan), () => undefined);
      });
      for (const event of ['update', 'secagg-advertise', 'secagg-masked-input', 'round-failed']) {
        socket.on(event, (payload: Uint8Array, reply: (r: Uint8Array) => void) => {
          seen.events.push(event);
          if (event === 'round-failed') seen.failures.push(decodeError(payload));
          reply(encodeAck({ ok: true }));
        });
      }
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    return { port: (http.address() as AddressInfo).port, seen };
  }

  it.each([
    ['in the clear', false],
    ['under secure aggregation', true],
  ])('answers round-failed when the budget check throws %s (an unexpected error: FEDTL_ERR_INTERNAL)', async (_where, secure) => {
    const ledger = await ClientPrivacyLedger.open(join(sandbox.dir, 'ledger.json'), 1e-5, { epsilon: 8, delta: 1e-5 });
    // What a plan with batchSize 0 used to do in dpSgdSpend (the codec now refuses such a plan before this).
    jest.spyOn(ledger, 'refusal').mockImplementation(() => {
      throw new RangeError('RdpAccountant: expected steps to be an integer ≥ 0, got Infinity');
    });
    const { port, seen } = await standIn(dpSgd, secure);
    const client = startFixtureClient(sandbox, port, 'org-1', 0.1, '', { privacyLedger: ledger });
    let ended = false;
    client.once('failed', () => (ended = true)).once('refused', () => (ended = true)).once('finished', () => (ended = true));

    await waitUntil(() => seen.failures.length === 1, 30_000, 'round-failed');
    expect(seen.failures[0]).toEqual({
      code: 'FEDTL_ERR_INTERNAL',
      message: "round 1: its plan could not be checked against this client's budget: RdpAccountant: expected steps to be an integer ≥ 0, got Infinity",
    });
    // Neither trained nor keys advertised; the client is still connected, waiting for the next plan.
    expect(seen.events).toEqual(['round-failed']);
    expect(ended).toBe(false);
    expect(unhandled).toEqual([]);
  }, 60_000);

  it('answers round-failed FEDTL_ERR_BAD_CONFIG when the shared ledger file was made unreadable since the client opened it', async () => {
    const file = join(sandbox.dir, 'ledger.json');
    const ledger = await ClientPrivacyLedger.open(file, 1e-5, { epsilon: 8, delta: 1e-5 });
    await writeFile(file, '{"version": 1, "events": [');
    const { port, seen } = await standIn(dpSgd, false);
    startFixtureClient(sandbox, port, 'org-1', 0.1, '', { privacyLedger: ledger });

    await waitUntil(() => seen.failures.length === 1, 30_000, 'round-failed');
    expect(seen.failures[0].code).toBe('FEDTL_ERR_BAD_CONFIG');
    expect(seen.failures[0].message).toMatch(/^round 1: its plan could not be checked against this client's budget: --dp-ledger .*: expected a privacy ledger .*got not JSON/);
    expect(seen.events).toEqual(['round-failed']);
    expect(unhandled).toEqual([]);
  }, 60_000);

  it.each([
    ['in the clear', false],
    ['under secure aggregation', true],
  ])('refuses at record time %s a round another process sharing the ledger made unaffordable: round-failed FEDTL_ERR_PRIVACY_BUDGET, nothing released', async (_where, secure) => {
    const file = join(sandbox.dir, 'ledger.json');
    // The budget pays for one round, not two.
    const budget = { epsilon: Number(((epsilonOfRounds(1) + epsilonOfRounds(2)) / 2).toFixed(3)), delta: 1e-5 };
    const ledger = await ClientPrivacyLedger.open(file, 1e-5, budget);
    const other = await ClientPrivacyLedger.open(file, 1e-5, budget);
    const check = ledger.refusal.bind(ledger);
    // The plan passes its last check (under secure aggregation it is checked on arrival and again before training);
    // then, while this client trains, the other process records its own round.
    let checks = 0;
    jest.spyOn(ledger, 'refusal').mockImplementation(async (plan, numExamples) => {
      const reason = await check(plan, numExamples);
      const event = other.eventFor({ runId: 'run-other', round: 1, config: dpSgd }, 48);
      if (++checks === (secure ? 2 : 1) && event) await other.record(event);
      return reason;
    });
    const { port, seen } = await standIn(dpSgd, secure);
    const client = startFixtureClient(sandbox, port, 'org-1', 0.1, '', { privacyLedger: ledger });
    let ended = false;
    client.once('failed', () => (ended = true)).once('refused', () => (ended = true)).once('finished', () => (ended = true));

    await waitUntil(() => seen.failures.length === 1, 30_000, 'round-failed');
    expect(seen.failures[0].code).toBe('FEDTL_ERR_PRIVACY_BUDGET');
    expect(seen.failures[0].message).toMatch(/^round 1 would take this client's data to ε = .* spent over 1 round;/);
    // The update would have left instead of the round-failed (the record comes first); a masked input needs a
    // ShareDelivery this stand-in never sends, and the attempt is dropped.
    expect(seen.events).toEqual(secure ? ['secagg-advertise', 'round-failed'] : ['round-failed']);
    expect(JSON.parse(await readFile(file, 'utf8')).events.map((e: { subject: string }) => e.subject)).toEqual(['run-other']);
    expect(ended).toBe(false);
    expect(unhandled).toEqual([]);
  }, 60_000);
});
