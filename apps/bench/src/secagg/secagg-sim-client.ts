// A simulated client for the secure-aggregation benchmark: the real protocol over its own Socket.IO connection
// (real codec; under secure aggregation the real SecAggParticipant of @fedtl/protocol), with training replaced
// by a seeded random delta of the plan's shapes after a fixed short delay, so only the protocol is measured.
// Every payload both ways is counted at the client, by event, acknowledgements included.
//
// A client told to drop out of a round disconnects at the chosen phase, and rejoins with a fresh connection once
// the coordinator has recorded the round (rejoin()), so it is available again for the next one:
//   secure aggregation: once it acknowledged the ShareDelivery (round 1 → 2 of Bonawitz et al.), i.e. after it shared
//     its keys (it is in U2) and before its masked input (not in U3): the coordinator must rebuild its mask key
//     from the survivors' shares — the protocol's expensive recovery path;
//   plain FedAvg: after acknowledging the round plan, before sending its update.
import { performance } from 'node:perf_hooks';
import { io, type Socket } from 'socket.io-client';
import { PERMISSIVE_POLICY, planSession } from '@fedtl/privacy';
import {
  PROTOCOL_VERSION,
  SECAGG_FEATURE,
  SecAggParticipant,
  decodeAck,
  decodeEvaluateRequest,
  decodeJoinReply,
  decodeKeyDirectory,
  decodeRoundPlan,
  decodeShareDelivery,
  decodeUnmaskRequest,
  encodeAck,
  encodeAdvertiseKeys,
  encodeEvaluateReport,
  encodeJoin,
  encodeMaskedInput,
  encodeShareKeys,
  encodeUnmaskShares,
  encodeUpdate,
  toUint8Array,
  type BackboneRef,
  type ClientRequestEvent,
  type ClientToServerEvents,
  type RoundPlan,
  type ServerToClientEvents,
} from '@fedtl/protocol';
import { deriveSeed } from '@fedtl/util';
import { randomDelta, simulatedEvaluateReport, TEST_EXAMPLES } from '../load/simulated-client';

export interface SecAggSimClientOptions {
  url: string;
  clientId: string;
  backbone: BackboneRef;
  labels: string[];
  seed: number;
  ackTimeoutMs: number;
  /** The simulated training time, ms. */
  trainDelayMs: number;
  /** Rounds in which this client drops out (see the header for the phase). */
  dropRounds: ReadonlySet<number>;
}

const TRAIN_EXAMPLES = 100;

/** Bytes of one payload (a Uint8Array, Buffer or ArrayBuffer as socket.io hands them over). */
function size(payload: unknown): number {
  if (payload instanceof ArrayBuffer) return payload.byteLength;
  if (ArrayBuffer.isView(payload)) return payload.byteLength;
  return 0;
}

type Socket_ = Socket<ServerToClientEvents, ClientToServerEvents>;

/** Per-round traffic and CPU figures of one client. */
export interface ClientRoundStats {
  /** Payload bytes by direction and event, acknowledgements counted with their request's event. */
  up: Record<string, number>;
  down: Record<string, number>;
  /** ms inside SecAggParticipant: key generation, share generation, masking, unmasking shares. */
  advertiseMs: number;
  shareKeysMs: number;
  maskMs: number;
  unmaskMs: number;
}

function emptyStats(): ClientRoundStats {
  return { up: {}, down: {}, advertiseMs: 0, shareKeysMs: 0, maskMs: 0, unmaskMs: 0 };
}

export class SecAggSimClient {
  private socket!: Socket_;
  readonly errors: string[] = [];
  /** By round. */
  readonly stats = new Map<number, ClientRoundStats>();
  private participant?: SecAggParticipant;
  private plan?: RoundPlan;
  private delivered = false;
  private trained = false;
  private maskedSent = false;
  private closed = false;
  private out = false;
  /** The model's float count, from the first plan received. */
  modelFloats = 0;

  constructor(private readonly options: SecAggSimClientOptions) {}

  private statsOf(round: number): ClientRoundStats {
    let s = this.stats.get(round);
    if (!s) this.stats.set(round, (s = emptyStats()));
    return s;
  }

  private count(direction: 'up' | 'down', round: number | undefined, event: string, bytes: number): void {
    if (round === undefined) return; // join and run-end: not part of any round
    const s = this.statsOf(round)[direction];
    s[event] = (s[event] ?? 0) + bytes;
  }

  /** Connects and joins; rejects when either fails. */
  async join(): Promise<void> {
    const socket: Socket_ = io(this.options.url, { transports: ['websocket'], reconnection: false, forceNew: true, autoConnect: false });
    this.socket = socket;
    socket.on('round-plan', (payload, ack) => this.onRoundPlan(socket, payload, ack));
    socket.on('evaluate-request', (payload, ack) => {
      const request = decodeEvaluateRequest(payload);
      this.count('down', request.round, 'evaluate-request', size(payload));
      this.reply(request.round, 'evaluate-request', ack, encodeAck({ ok: true }));
      void this.guard('evaluate-report', () => this.sendEvaluation(socket, request));
    });
    socket.on('secagg-keys', (payload, ack) => {
      void this.guard('secagg-keys', async () => {
        const directory = decodeKeyDirectory(payload);
        this.count('down', directory.round, 'secagg-keys', size(payload));
        const started = performance.now();
        const shares = await this.current().onKeyDirectory(directory);
        this.statsOf(directory.round).shareKeysMs += performance.now() - started;
        this.reply(directory.round, 'secagg-keys', ack, encodeAck({ ok: true }));
        await this.send(socket, directory.round, 'secagg-shares', encodeShareKeys(shares));
      });
    });
    socket.on('secagg-share-delivery', (payload, ack) => {
      const delivery = decodeShareDelivery(payload);
      this.count('down', delivery.round, 'secagg-share-delivery', size(payload));
      if (this.options.dropRounds.has(delivery.round)) {
        // Acknowledged first: a client that vanishes without the ack stalls the coordinator's delivery until
        // --secagg-phase-timeout-ms (its send awaits the ack even after the disconnect), which is not the
        // protocol's cost but that wait's.
        this.reply(delivery.round, 'secagg-share-delivery', ack, encodeAck({ ok: true }));
        this.dropOut();
        return;
      }
      void this.guard('secagg-share-delivery', async () => {
        this.current().onShareDelivery(delivery);
        this.reply(delivery.round, 'secagg-share-delivery', ack, encodeAck({ ok: true }));
        this.delivered = true;
        await this.sendMaskedInputIfReady(socket);
      });
    });
    socket.on('secagg-unmask', (payload, ack) => {
      void this.guard('secagg-unmask', async () => {
        const request = decodeUnmaskRequest(payload);
        this.count('down', request.round, 'secagg-unmask', size(payload));
        const started = performance.now();
        const shares = await this.current().onUnmaskRequest(request);
        this.statsOf(request.round).unmaskMs += performance.now() - started;
        this.reply(request.round, 'secagg-unmask', ack, encodeAck({ ok: true }));
        await this.send(socket, request.round, 'secagg-unmask-shares', encodeUnmaskShares(shares));
      });
    });
    socket.on('run-end', (_payload, ack) => ack(encodeAck({ ok: true })));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
      socket.connect();
    });
    const { clientId, backbone, labels } = this.options;
    const payload = encodeJoin({
      clientId, token: '', protocolVersion: PROTOCOL_VERSION, backbone, labels,
      numTrainExamples: TRAIN_EXAMPLES, numTestExamples: TEST_EXAMPLES, features: [SECAGG_FEATURE], privacyPolicy: PERMISSIVE_POLICY,
    });
    const reply = decodeJoinReply(await socket.timeout(this.options.ackTimeoutMs).emitWithAck('join', payload));
    if (!reply.ok) throw new Error(`${clientId} was refused: ${reply.error.code}: ${reply.error.message}`);
  }

  close(): void {
    this.closed = true;
    this.socket?.disconnect();
  }

  private current(): SecAggParticipant {
    if (!this.participant) throw new Error('no secure-aggregation round in progress');
    return this.participant;
  }

  /** Disconnects mid-round; the suite calls rejoin() once the coordinator has recorded the round. */
  private dropOut(): void {
    this.socket.disconnect();
    this.participant = undefined;
    this.plan = undefined;
    this.out = true;
  }

  /** Joins again on a fresh connection after a dropout, for the next round. */
  async rejoin(): Promise<void> {
    if (!this.out || this.closed) return;
    this.out = false;
    await this.guard('rejoin', () => this.join());
  }

  private onRoundPlan(socket: Socket_, payload: Uint8Array, ack: (reply: Uint8Array) => void): void {
    const plan = decodeRoundPlan(payload);
    this.count('down', plan.round, 'round-plan', size(payload));
    this.reply(plan.round, 'round-plan', ack, encodeAck({ ok: true }));
    this.plan = plan;
    this.modelFloats = plan.weights.reduce((n, t) => n + t.data.length, 0);
    this.delivered = false;
    this.trained = false;
    this.maskedSent = false;
    this.participant = undefined;
    const secagg = plan.secureAggregation;
    if (!secagg) {
      if (this.options.dropRounds.has(plan.round)) {
        this.dropOut();
        return;
      }
      void this.guard('update', async () => {
        await delay(this.options.trainDelayMs);
        const delta = randomDelta(plan.weights, deriveSeed(this.options.seed, this.options.clientId, plan.round));
        const update = encodeUpdate({ runId: plan.runId, round: plan.round, clientId: this.options.clientId, delta, numExamples: TRAIN_EXAMPLES, metrics: { loss: 0.5 } });
        await this.send(socket, plan.round, 'update', update);
      });
      return;
    }
    void this.guard('secagg-advertise', async () => {
      const started = performance.now();
      const participant = new SecAggParticipant({
        clientId: this.options.clientId, runId: plan.runId, round: plan.round, params: secagg,
        session: planSession(toUint8Array(payload, 'RoundPlan')), policy: PERMISSIVE_POLICY,
      });
      this.participant = participant;
      const advertise = participant.advertise();
      this.statsOf(plan.round).advertiseMs += performance.now() - started;
      const sent = this.send(socket, plan.round, 'secagg-advertise', encodeAdvertiseKeys(advertise));
      await delay(this.options.trainDelayMs);
      if (this.participant === participant) {
        this.trained = true;
        await this.sendMaskedInputIfReady(socket);
      }
      await sent;
    });
  }

  private async sendMaskedInputIfReady(socket: Socket_): Promise<void> {
    const plan = this.plan;
    if (!plan || !this.participant || !this.trained || !this.delivered || this.maskedSent) return;
    this.maskedSent = true;
    const delta = randomDelta(plan.weights, deriveSeed(this.options.seed, this.options.clientId, plan.round));
    const started = performance.now();
    const masked = this.participant.maskedInput({ deltas: delta.map((t) => t.data as Float32Array), numExamples: TRAIN_EXAMPLES, metrics: { loss: 0.5 } });
    this.statsOf(plan.round).maskMs += performance.now() - started;
    await this.send(socket, plan.round, 'secagg-masked-input', encodeMaskedInput(masked));
  }

  private async sendEvaluation(socket: Socket_, request: { runId: string; round: number }): Promise<void> {
    const payload = encodeEvaluateReport(simulatedEvaluateReport(this.options.clientId, this.options.labels, request));
    await this.send(socket, request.round, 'evaluate-report', payload);
  }

  /** Acknowledges a server request, counting the ack's bytes as upload of that event. */
  private reply(round: number, event: string, ack: (reply: Uint8Array) => void, payload: Uint8Array): void {
    this.count('up', round, event, payload.byteLength);
    ack(payload);
  }

  /** Sends a request and expects an ok Ack, counting both. */
  private async send(socket: Socket_, round: number, event: ClientRequestEvent, payload: Uint8Array): Promise<void> {
    this.count('up', round, event, payload.byteLength);
    const raw = await socket.timeout(this.options.ackTimeoutMs).emitWithAck(event, payload);
    this.count('down', round, event, size(raw));
    const reply = decodeAck(raw);
    if (!reply.ok) throw new Error(`${reply.error?.code}: ${reply.error?.message}`);
  }

  private async guard(what: string, step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (err) {
      if (this.closed) return;
      this.errors.push(`${this.options.clientId} ${what}: ${(err as Error).message}`);
    }
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
