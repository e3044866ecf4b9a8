// A lightweight stand-in for a client: it speaks the real protocol over its own Socket.IO connection (join,
// acknowledge the round plan, send an update, report an evaluation) but sends a seeded random delta of the
// plan's shapes instead of training, so one process can play hundreds of organisations.
import { io, type Socket } from 'socket.io-client';
import {
  PROTOCOL_VERSION,
  decodeAck,
  decodeEvaluateRequest,
  decodeJoinReply,
  decodeRoundPlan,
  emitWithAck,
  encodeAck,
  encodeEvaluateReport,
  encodeJoin,
  encodeUpdate,
  type BackboneRef,
  type ClientToServerEvents,
  type EvaluateReport,
  type NamedTensor,
  type RoundPlan,
  type ServerToClientEvents,
} from '@fedtl/protocol';
import { deriveSeed, seededRandom } from '@fedtl/util';

export interface SimulatedClientOptions {
  url: string;
  clientId: string;
  backbone: BackboneRef;
  labels: string[];
  seed: number;
  ackTimeoutMs: number;
}

const TRAIN_EXAMPLES = 100;
/** Test examples every simulated client declares and reports on. */
export const TEST_EXAMPLES = 20;
/** Small steps, like a few epochs of a real adapter: the global model stays finite over any number of rounds. */
const DELTA_SCALE = 1e-3;

export class SimulatedClient {
  private readonly socket: Socket<ServerToClientEvents, ClientToServerEvents>;
  /** Requests the coordinator refused or that failed on the way; a correct run has none. */
  readonly errors: string[] = [];
  updatesAccepted = 0;

  constructor(private readonly options: SimulatedClientOptions) {
    this.socket = io(options.url, { transports: ['websocket'], reconnection: false, forceNew: true, autoConnect: false });
    this.socket.on('round-plan', (payload, ack) => {
      ack(encodeAck({ ok: true }));
      void this.report('update', () => this.sendUpdate(decodeRoundPlan(payload)));
    });
    this.socket.on('evaluate-request', (payload, ack) => {
      ack(encodeAck({ ok: true }));
      void this.report('evaluate-report', () => this.sendEvaluation(decodeEvaluateRequest(payload)));
    });
    // The run's verdict: acknowledged, as every client must (the coordinator waits for it before it exits).
    this.socket.on('run-end', (_payload, ack) => ack(encodeAck({ ok: true })));
  }

  /** Connects and joins; rejects when either fails. */
  async join(): Promise<void> {
    const { clientId, backbone, labels } = this.options;
    await new Promise<void>((resolve, reject) => {
      this.socket.once('connect', resolve);
      this.socket.once('connect_error', reject);
      this.socket.connect();
    });
    const payload = encodeJoin({ clientId, token: '', protocolVersion: PROTOCOL_VERSION, backbone, labels, numTrainExamples: TRAIN_EXAMPLES, numTestExamples: TEST_EXAMPLES });
    const reply = decodeJoinReply(await emitWithAck(this.socket, 'join', payload, this.options.ackTimeoutMs));
    if (!reply.ok) throw new Error(`${clientId} was refused: ${reply.error.code}: ${reply.error.message}`);
  }

  close(): void {
    this.socket.disconnect();
  }

  private async sendUpdate(plan: RoundPlan): Promise<void> {
    const delta = randomDelta(plan.weights, deriveSeed(this.options.seed, this.options.clientId, plan.round));
    const payload = encodeUpdate({ runId: plan.runId, round: plan.round, clientId: this.options.clientId, delta, numExamples: TRAIN_EXAMPLES, metrics: { loss: 0.5 } });
    await this.expectOk('update', payload);
    this.updatesAccepted++;
  }

  private async sendEvaluation(request: { runId: string; round: number }): Promise<void> {
    const payload = encodeEvaluateReport(simulatedEvaluateReport(this.options.clientId, this.options.labels, request));
    await this.expectOk('evaluate-report', payload);
  }

  private async expectOk(event: 'update' | 'evaluate-report', payload: Uint8Array): Promise<void> {
    const reply = decodeAck(await emitWithAck(this.socket, event, payload, this.options.ackTimeoutMs));
    if (!reply.ok) throw new Error(`${reply.error?.code}: ${reply.error?.message}`);
  }

  private async report(what: string, send: () => Promise<void>): Promise<void> {
    try {
      await send();
    } catch (err) {
      this.errors.push(`${this.options.clientId} ${what}: ${(err as Error).message}`);
    }
  }
}

/** A delta with exactly the plan's tensor names, shapes and dtype, drawn uniformly from ±DELTA_SCALE. */
/**
 * A consistent evaluation report for a simulated client, as the coordinator checks it: TEST_EXAMPLES examples
 * whose per-label supports add up to that count, all but one of each label right, loss 0.5.
 */
export function simulatedEvaluateReport(clientId: string, labels: readonly string[], request: { runId: string; round: number }): EvaluateReport {
  const perLabel = Object.fromEntries(
    labels.map((label, i) => {
      const support = Math.floor(TEST_EXAMPLES / labels.length) + (i < TEST_EXAMPLES % labels.length ? 1 : 0);
      return [label, { support, correct: Math.max(0, support - 1) }];
    }),
  );
  const correct = Object.values(perLabel).reduce((sum, count) => sum + count.correct, 0);
  return { runId: request.runId, round: request.round, clientId, numExamples: TEST_EXAMPLES, metrics: { accuracy: correct / TEST_EXAMPLES, loss: 0.5 }, perLabel };
}

export function randomDelta(weights: NamedTensor[], seed: number): NamedTensor[] {
  const random = seededRandom(seed);
  return weights.map((tensor) => ({
    ...tensor,
    data: Float32Array.from({ length: tensor.data.length }, () => (2 * random() - 1) * DELTA_SCALE),
  }));
}
