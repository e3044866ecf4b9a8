// FederatedClient under secure aggregation over real sockets, against a stand-in coordinator that runs the
// honest server side with SecAggRelay: three clients train while the key rounds proceed, send masked inputs
// (never an Update), and the relay's unmasked weighted mean is a plausible delta; the privacy policy refuses a
// run without secure aggregation and a plan below its batch size.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type Socket } from 'socket.io';
import { initialWeights } from '@fedtl/model';
import { chooseFractionalBits, PERMISSIVE_POLICY, planSession, type PrivacyPolicy } from '@fedtl/privacy';
import {
  decodeAck,
  decodeAdvertiseKeys,
  decodeError,
  decodeJoin,
  decodeMaskedInput,
  decodeShareKeys,
  decodeUnmaskShares,
  encodeAck,
  encodeJoinReply,
  encodeKeyDirectory,
  encodeRoundPlan,
  encodeRunEnd,
  encodeShareDelivery,
  encodeUnmaskRequest,
  SECAGG_FEATURE,
  FEDPROX_FEATURE,
  PER_FEDAVG_FEATURE,
  DP_SGD_FEATURE,
  DP_FEDAVG_FEATURE,
  LORA_FEATURE,
  type AdvertiseKeys,
  type JoinRequest,
  type MaskedInput,
  type SecAggParams,
  type ShareKeys,
  type UnmaskShares,
} from '@fedtl/protocol';
import { configureLogging, type FedtlError } from '@fedtl/util';
import { useTestSandbox, waitFor, waitUntil } from '@fedtl/util/testing';
import { FederatedClient } from '../federated-client';
import { FIXTURE_DIM as DIM, fixtureLocalData } from '../testing/client-fixtures';
import { SecAggRelay, type RelayResult } from '@fedtl/protocol/testing';
import type { TrainingConfig } from '@fedtl/protocol';

const model = { inputDim: DIM, adapterWidth: 4, head: 'linear' as const, headHidden: 8, labels: ['no', 'yes'] };
const config = { localEpochs: 1, batchSize: 16, learningRate: 0.05, optimizer: 'sgd' as const, seed: 1 };

type Reply = (r: Uint8Array) => void;

describe('FederatedClient under secure aggregation', () => {
  const sandbox = useTestSandbox();
  beforeAll(() => configureLogging({ level: 'error' }));

  /** A Socket.IO server on 127.0.0.1:0 whose connections `onConnection` drives. */
  async function standIn(onConnection: (socket: Socket) => void): Promise<number> {
    const http = createServer();
    const server = new Server(http, { serveClient: false });
    sandbox.defer(() => new Promise((resolve) => server.close(resolve)));
    server.on('connection', onConnection);
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    return (http.address() as AddressInfo).port;
  }

  function startClient(port: number, clientId: string, shift: number, privacyPolicy: PrivacyPolicy = PERMISSIVE_POLICY): FederatedClient {
    const client = new FederatedClient({ url: `http://127.0.0.1:${port}`, clientId, token: '', data: fixtureLocalData(shift), backend: 'cpu', ackTimeoutMs: 20_000, localBaselineEpochs: 0, seed: 1, privacyPolicy });
    sandbox.defer(() => client.close());
    client.start();
    return client;
  }

  // Plain: each client weighs its 48 examples (W = 48), so the weight part sums to 3 and the total weight to 144.
  // DP-FedAvg (an update clip norm S): each client weighs 1 (W = 1, PROTOCOL.md §7.1), its delta is within S and
  // its training metrics are withheld (the loss slot is 0).
  const plain = { plan: config, weightBound: 48, totalWeight: 144, clip: 10 };
  const dpFedAvg = { plan: { ...config, updateClipNorm: 0.05 }, weightBound: 1, totalWeight: 3, clip: 0.05 };
  it.each([
    ['its weighted mean', plain],
    ['under DP-FedAvg, each client weighing 1 with its delta clipped, the mean', dpFedAvg],
  ] as Array<[string, { plan: TrainingConfig; weightBound: number; totalWeight: number; clip: number }]>)('runs a round of three: keys while training, masked inputs only, acknowledged unmasking, %s recovered', async (_what, variant) => {
    const ids = ['org-a', 'org-b', 'org-c'];
    const weights = initialWeights(model, 1);
    const params: SecAggParams = { attempt: 1, threshold: 2, numSelected: 3, fractionalBits: chooseFractionalBits(3, 10), clip: 10, weightBound: variant.weightBound, weightCap: 48, metricSlots: ['loss'], ringBits: 32 };
    const plan = encodeRoundPlan({ runId: 'run-s', round: 1, weights, config: variant.plan, secureAggregation: params });
    const relay = new SecAggRelay({ context: { runId: 'run-s', round: 1, session: planSession(plan) }, params, sizes: weights.map((w) => w.data.length) });
    const sockets = new Map<string, Socket>();
    const joins: JoinRequest[] = [];
    const updates: string[] = [];
    const unmaskAcks: boolean[] = [];
    const ads: AdvertiseKeys[] = [];
    const shareKeys: ShareKeys[] = [];
    const masked: MaskedInput[] = [];
    const responses: UnmaskShares[] = [];
    let result: Promise<RelayResult> | undefined;
    const ok = (reply: Reply) => reply(encodeAck({ ok: true }));
    const port = await standIn((socket) => {
      socket.on('join', (payload: Uint8Array, reply: Reply) => {
        const join = decodeJoin(payload);
        joins.push(join);
        sockets.set(join.clientId, socket);
        reply(encodeJoinReply({ ok: true, welcome: { runId: 'run-s', clientId: join.clientId, protocolVersion: 1, model, currentRound: 0, secureAggregation: { protocol: SECAGG_FEATURE, minThreshold: 2 } } }));
        if (sockets.size === ids.length) for (const s of sockets.values()) s.emit('round-plan', plan, () => undefined);
      });
      socket.on('update', (_payload: Uint8Array, reply: Reply) => {
        updates.push('update');
        ok(reply);
      });
      socket.on('secagg-advertise', (payload: Uint8Array, reply: Reply) => {
        ads.push(decodeAdvertiseKeys(payload));
        ok(reply);
        if (ads.length === ids.length) {
          const directory = encodeKeyDirectory(relay.keyDirectory(ads));
          for (const s of sockets.values()) s.emit('secagg-keys', directory, () => undefined);
        }
      });
      socket.on('secagg-shares', (payload: Uint8Array, reply: Reply) => {
        shareKeys.push(decodeShareKeys(payload));
        ok(reply);
        if (shareKeys.length === ids.length) {
          for (const [id, delivery] of relay.deliverShares(shareKeys)) sockets.get(id)?.emit('secagg-share-delivery', encodeShareDelivery(delivery), () => undefined);
        }
      });
      socket.on('secagg-masked-input', (payload: Uint8Array, reply: Reply) => {
        masked.push(decodeMaskedInput(payload));
        ok(reply);
        if (masked.length === ids.length) {
          const request = encodeUnmaskRequest(relay.unmaskRequest(masked));
          for (const s of sockets.values()) s.emit('secagg-unmask', request, (ack: Uint8Array) => unmaskAcks.push(decodeAck(ack).ok));
        }
      });
      socket.on('secagg-unmask-shares', (payload: Uint8Array, reply: Reply) => {
        responses.push(decodeUnmaskShares(payload));
        ok(reply);
        if (responses.length === ids.length) {
          result = relay.finish(responses);
          void result.then(() => {
            for (const s of sockets.values()) s.emit('run-end', encodeRunEnd({ runId: 'run-s', status: 'finished', roundsCompleted: 1 }), () => undefined);
          });
        }
      });
    });
    const clients = ids.map((id, k) => startClient(port, id, 0.2 * (k - 1)));
    await Promise.all(clients.map((c) => waitFor(c, 'finished', 120_000)));

    expect(joins.map((j) => [j.features, j.privacyPolicy])).toEqual(ids.map(() => [[SECAGG_FEATURE, FEDPROX_FEATURE, PER_FEDAVG_FEATURE, DP_SGD_FEATURE, DP_FEDAVG_FEATURE, LORA_FEATURE], PERMISSIVE_POLICY]));
    expect(updates).toEqual([]);
    expect(unmaskAcks).toEqual([true, true, true]);
    const { sum, survivors } = await (result as Promise<RelayResult>);
    expect(survivors).toEqual(ids);
    const aggregate = relay.aggregate(sum);
    expect(aggregate.totalWeight).toBeCloseTo(variant.totalWeight, 4);
    if (variant === plain) {
      expect(aggregate.metrics.loss).toBeGreaterThan(0);
      expect(aggregate.metrics.loss).toBeLessThan(5);
    } else {
      expect(aggregate.metrics.loss).toBe(0);
    }
    const norm = Math.hypot(...aggregate.meanDeltas.flatMap((d) => Array.from(d)));
    expect(norm).toBeGreaterThan(0);
    // Float32 and the fixed-point ring each round a little: a hair over the clip norm is rounding.
    expect(norm).toBeLessThanOrEqual(variant.clip * (1 + 1e-3));
  }, 180_000);

  it('leaves a run without secure aggregation when its policy requires it, and refuses a plan below its batch size', async () => {
    const roundFailures: string[] = [];
    const port = await standIn((socket) => {
      socket.on('join', (payload: Uint8Array, reply: Reply) => {
        const join = decodeJoin(payload);
        reply(encodeJoinReply({ ok: true, welcome: { runId: 'run-p', clientId: join.clientId, protocolVersion: 1, model, currentRound: 0 } }));
        socket.emit('round-plan', encodeRoundPlan({ runId: 'run-p', round: 1, weights: initialWeights(model, 1), config }), () => undefined);
      });
      socket.on('round-failed', (payload: Uint8Array, reply: Reply) => {
        const error = decodeError(payload);
        roundFailures.push(`${error.code}: ${error.message}`);
        reply(encodeAck({ ok: true }));
      });
    });
    const strict = startClient(port, 'strict', 0, { ...PERMISSIVE_POLICY, requireSecureAggregation: true });
    const [error] = await waitFor<[FedtlError]>(strict, 'refused', 60_000);
    expect(error.code).toBe('FEDTL_ERR_POLICY_REFUSED');
    expect(error.message).toBe("this client's privacy policy (secure aggregation) requires secure aggregation, and run run-p does not use it (its terms carry no secure aggregation): its updates would be sent in the clear");

    startClient(port, 'careful', 0, { ...PERMISSIVE_POLICY, minBatchSize: 32 });
    await waitUntil(() => roundFailures.length > 0, 60_000, 'the policy refusal of round 1');
    expect(roundFailures).toEqual(['FEDTL_ERR_POLICY_REFUSED: round 1: expected a batch size of at least 32 (--min-batch-size), got a plan with batch size 16']);
  }, 120_000);
});
