// The client's differential privacy over real sockets (PROTOCOL.md §7.1), against a stand-in coordinator that
// sends the plans a DP run would: the client lists both DP features, records a DP-SGD round in its ledger before
// the update arrives, refuses with FEDTL_ERR_PRIVACY_BUDGET the round that would go over its budget and a round
// without DP-SGD, and under DP-FedAvg sends a delta clipped to the plan's bound, without training metrics.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Server, type Socket } from 'socket.io';
import { initialWeights } from '@fedtl/model';
import { RdpAccountant, l2NormOf } from '@fedtl/privacy';
import {
  DP_FEDAVG_FEATURE,
  DP_SGD_FEATURE,
  decodeError,
  decodeJoin,
  decodeUpdate,
  encodeAck,
  encodeJoinReply,
  encodeRoundPlan,
  type ProtocolError,
  type RunEnd,
  type TrainingConfig,
  type Update,
} from '@fedtl/protocol';
import { configureLogging } from '@fedtl/util';
import { useTestSandbox, waitFor, waitUntil } from '@fedtl/util/testing';
import { FIXTURE_DIM, startFixtureClient, startFixtureCoordinator } from '../testing/client-fixtures';
import { ClientPrivacyLedger } from './client-privacy-ledger';

const model = { inputDim: FIXTURE_DIM, adapterWidth: 4, head: 'linear' as const, headHidden: 8, labels: ['no', 'yes'] };
/** The fixture's 48 training rows, batch 12: q = 0.25, one epoch of 4 steps. */
const base: TrainingConfig = { localEpochs: 1, batchSize: 12, learningRate: 0.05, optimizer: 'sgd', seed: 1 };
const dpSgd: TrainingConfig = { ...base, recordClipNorm: 1, recordNoiseMultiplier: 1.1 };
const epsilonOfSteps = (steps: number) => new RdpAccountant().compose({ samplingRate: 0.25, noiseMultiplier: 1.1, steps }).epsilon(1e-5);

interface Received {
  features: string[];
  updates: Array<{ update: Update; ledgerEvents: number }>;
  failures: Array<{ round: number; error: ProtocolError }>;
}

describe('the client under differential privacy', () => {
  const sandbox = useTestSandbox();

  beforeAll(() => {
    configureLogging({ level: 'error' });
  });

  /**
   * A stand-in coordinator on a free port that sends `plans` one after another (the next once the client answered
   * the previous with an update or a round-failed); at each update it reads the ledger file, to see what the
   * client had recorded before the update left.
   */
  async function standIn(plans: TrainingConfig[], ledgerFile?: string): Promise<{ port: number; received: Received }> {
    const http = createServer();
    const server = new Server(http, { serveClient: false, maxHttpBufferSize: 1e7 });
    sandbox.defer(() => new Promise((resolve) => server.close(resolve)));
    const received: Received = { features: [], updates: [], failures: [] };
    const sendPlan = (socket: Socket, round: number) => {
      if (round > plans.length) return;
      socket.emit('round-plan', encodeRoundPlan({ runId: 'run-1', round, weights: initialWeights(model, 1), config: plans[round - 1] }), () => undefined);
    };
    server.on('connection', (socket) => {
      socket.on('join', (payload: Uint8Array, reply: (r: Uint8Array) => void) => {
        received.features = decodeJoin(payload).features ?? [];
        reply(encodeJoinReply({ ok: true, welcome: { runId: 'run-1', clientId: 'org-1', protocolVersion: 1, model, currentRound: 0 } }));
        sendPlan(socket, 1);
      });
      socket.on('update', async (payload: Uint8Array, reply: (r: Uint8Array) => void) => {
        const update = decodeUpdate(payload);
        const ledgerEvents = ledgerFile ? JSON.parse(await readFile(ledgerFile, 'utf8')).events.length : 0;
        received.updates.push({ update, ledgerEvents });
        reply(encodeAck({ ok: true }));
        sendPlan(socket, update.round + 1);
      });
      socket.on('round-failed', (payload: Uint8Array, reply: (r: Uint8Array) => void) => {
        const round = received.updates.length + received.failures.length + 1;
        received.failures.push({ round, error: decodeError(payload) });
        reply(encodeAck({ ok: true }));
        sendPlan(socket, round + 1);
      });
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    return { port: (http.address() as AddressInfo).port, received };
  }

  it('records a DP-SGD round before its update leaves, then refuses the round over its budget and a round without DP-SGD', async () => {
    const ledgerFile = join(sandbox.dir, 'org-1', 'privacy-ledger.json');
    // One round (4 steps) fits in the budget, two do not.
    const epsilon = Number(((epsilonOfSteps(4) + epsilonOfSteps(8)) / 2).toFixed(3));
    const privacyLedger = await ClientPrivacyLedger.open(ledgerFile, 1e-5, { epsilon, delta: 1e-5 });
    const { port, received } = await standIn([dpSgd, dpSgd, base], ledgerFile);
    const client = startFixtureClient(sandbox, port, 'org-1', 0.1, '', { privacyLedger });

    await waitUntil(() => received.updates.length + received.failures.length === 3, 60_000, 'three rounds answered');
    expect(received.features).toEqual(expect.arrayContaining([DP_SGD_FEATURE, DP_FEDAVG_FEATURE]));
    expect(received.updates.map(({ update, ledgerEvents }) => [update.round, ledgerEvents])).toEqual([[1, 1]]);
    // The training metrics of a DP-SGD round are computed without noise: only the wall time is sent.
    expect(Object.keys(received.updates[0].update.metrics)).toEqual(['seconds']);
    expect(received.failures.map(({ round, error }) => [round, error.code])).toEqual([
      [2, 'FEDTL_ERR_PRIVACY_BUDGET'],
      [3, 'FEDTL_ERR_PRIVACY_BUDGET'],
    ]);
    expect(received.failures[0].error.message).toBe(
      `round 2 would take this client's data to ε = ${Number(epsilonOfSteps(8).toPrecision(3))} at δ = 1e-5 (ledger ${ledgerFile}: ε = ${Number(epsilonOfSteps(4).toPrecision(3))} ` +
        `spent over 1 round; this round: q = 0.25, σ = 1.1, 4 steps); budget --dp-epsilon ${epsilon} at --dp-delta 1e-5`,
    );
    expect(received.failures[1].error.message).toMatch(/^round 3 trains without DP-SGD \(its plan sets no record clip norm\): ε = ∞/);
    const file = JSON.parse(await readFile(ledgerFile, 'utf8'));
    expect(file).toEqual({ version: 1, events: [{ round: 1, unit: 'record', mechanism: 'poisson-sampled-gaussian', samplingRate: 0.25, noiseMultiplier: 1.1, steps: 4, subject: 'run-1' }] });
    expect(await client.trainingThreadTensors()).toBe(0);
  }, 90_000);

  it('clips its delta to the plan\'s update clip norm under DP-FedAvg, and sends no training metrics', async () => {
    const { port, received } = await standIn([base, { ...base, updateClipNorm: 0.001 }]);
    const client = startFixtureClient(sandbox, port, 'org-1', 0.1);

    await waitUntil(() => received.updates.length === 2, 60_000, 'two updates');
    const norms = received.updates.map(({ update }) => l2NormOf(update.delta.map((t) => Float32Array.from(t.data))));
    expect(norms[0]).toBeGreaterThan(0.001);
    expect(norms[1]).toBeLessThanOrEqual(0.001);
    expect(norms[1]).toBeCloseTo(0.001, 5);
    expect(received.updates[0].update.metrics).toEqual({ loss: expect.any(Number), accuracy: expect.any(Number), seconds: expect.any(Number) });
    expect(Object.keys(received.updates[1].update.metrics)).toEqual(['seconds']);
    expect(received.updates.map(({ update }) => update.numExamples)).toEqual([48, 48]);
    expect(await client.trainingThreadTensors()).toBe(0);
  }, 90_000);

  it('stops training for a real coordinator\'s DP-SGD run once its budget is spent, while another client goes on', async () => {
    // The fixture coordinator's plans: 2 epochs of batch 16 on 48 rows, q = 1/3, 6 steps a round; σ = 1.1. The
    // budget pays for one round, not two. One update a round is a quorum, and refused rounds do not evict.
    const steps = (n: number) => new RdpAccountant().compose({ samplingRate: 16 / 48, noiseMultiplier: 1.1, steps: n }).epsilon(1e-5);
    const epsilon = Number(((steps(6) + steps(12)) / 2).toFixed(3));
    const { port, process: coordinator } = await startFixtureCoordinator(sandbox, 3, [
      '--dp-record-clip-norm', '1', '--dp-record-noise-multiplier', '1.1', '--min-clients', '1', '--min-available', '2', '--max-missed-rounds', '10',
    ]);
    const ledgers = { bounded: join(sandbox.dir, 'bounded.json'), free: join(sandbox.dir, 'free.json') };
    const bounded = startFixtureClient(sandbox, port, 'bounded', 0.1, '', { privacyLedger: await ClientPrivacyLedger.open(ledgers.bounded, 1e-5, { epsilon, delta: 1e-5 }) });
    const free = startFixtureClient(sandbox, port, 'free', -0.1, '', { privacyLedger: await ClientPrivacyLedger.open(ledgers.free, 1e-5) });
    const [[welcome]] = await Promise.all([waitFor<[{ runId: string }]>(bounded, 'welcome', 60_000), waitFor(free, 'welcome', 60_000)]);
    const verdicts = await Promise.all([bounded, free].map((c) => waitFor<[RunEnd]>(c, 'finished', 120_000)));

    expect(verdicts.map(([v]) => [v.status, v.roundsCompleted])).toEqual([['finished', 3], ['finished', 3]]);
    expect(await coordinator.exited).toBe(0);
    const eventsOf = async (file: string) => JSON.parse(await readFile(file, 'utf8')).events.map((e: { round: number; subject: string; steps: number }) => [e.round, e.subject, e.steps]);
    expect(await eventsOf(ledgers.bounded)).toEqual([[1, welcome.runId, 6]]);
    expect(await eventsOf(ledgers.free)).toEqual([1, 2, 3].map((round) => [round, welcome.runId, 6]));
    const rounds = (await readFile(join(sandbox.dir, 'out', 'metrics.jsonl'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line));
    expect(rounds.map((r) => [r.round, r.status, r.accepted, r.failures.map((f: { clientId: string; code: string }) => [f.clientId, f.code])])).toEqual([
      [1, 'aggregated', ['bounded', 'free'], []],
      [2, 'aggregated', ['free'], [['bounded', 'FEDTL_ERR_PRIVACY_BUDGET']]],
      [3, 'aggregated', ['free'], [['bounded', 'FEDTL_ERR_PRIVACY_BUDGET']]],
    ]);
    expect(await Promise.all([bounded.trainingThreadTensors(), free.trainingThreadTensors()])).toEqual([0, 0]);
  }, 180_000);
});
