// Test support: a client that speaks the wire protocol by hand over socket.io-client, so tests can script
// exactly what a (mis)behaving client sends and when.
import { io, type Socket } from 'socket.io-client';
import {
  PROTOCOL_VERSION,
  decodeAck,
  decodeError,
  decodeEvaluateRequest,
  decodeJoinReply,
  decodeRoundPlan,
  decodeRunEnd,
  emitWithAck,
  encodeAck,
  encodeError,
  encodeEvaluateReport,
  encodeJoin,
  encodeUpdate,
  type BackboneRef,
  type EvaluateReport,
  type EvaluateRequest,
  type JoinReply,
  type JoinRequest,
  type NamedTensor,
  type RoundPlan,
  type RunEnd,
} from '@fedtl/protocol';
import type { ErrorCode } from '@fedtl/util';

export interface ProtocolClientOptions {
  /** The federation token: sent at the handshake (Authorization header and Socket.IO auth) and in the Join. */
  token?: string;
  /** Socket.IO `auth` to send instead of `{ token }` (tests of the middleware's own check). */
  auth?: Record<string, string>;
  /** PEM texts for TLS: the CA of the coordinator, and a client certificate and key for mutual TLS. */
  tls?: { ca?: string; cert?: string; key?: string };
}

export class ProtocolClient {
  readonly socket: Socket;
  readonly plans: RoundPlan[] = [];
  /** Failures of scripted answers (a test asserts this stays empty). */
  readonly errors: Error[] = [];
  /** The coordinator's verdict, once it sent one. */
  verdict?: RunEnd;
  /** Error messages the coordinator sent this client ("fedtl-error"), in order. */
  readonly coordinatorErrors: Array<{ code: string; message: string }> = [];
  private planListeners: Array<(plan: RoundPlan) => void> = [];
  private evaluator?: (request: EvaluateRequest) => Promise<void>;

  private readonly token: string;

  constructor(url: string, readonly clientId: string, private readonly backbone: BackboneRef, options: ProtocolClientOptions = {}) {
    this.token = options.token ?? '';
    this.socket = io(url, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      auth: options.auth ?? { token: this.token },
      extraHeaders: this.token ? { authorization: `Bearer ${this.token}` } : {},
      ...options.tls,
    });
    this.socket.on('round-plan', (payload: Uint8Array, ack: (reply: Uint8Array) => void) => {
      ack(encodeAck({ ok: true }));
      const plan = decodeRoundPlan(payload);
      this.plans.push(plan);
      this.planListeners.forEach((listener) => listener(plan));
    });
    this.socket.on('run-end', (payload: Uint8Array, ack: (reply: Uint8Array) => void) => {
      ack(encodeAck({ ok: true }));
      this.verdict = decodeRunEnd(payload);
    });
    this.socket.on('fedtl-error', (payload: Uint8Array) => this.coordinatorErrors.push(decodeError(payload)));
    // Unless scripted with onEvaluateRequest, these clients do not evaluate; declining lets the coordinator move on at once.
    this.socket.on('evaluate-request', (payload: Uint8Array, ack: (reply: Uint8Array) => void) => {
      const evaluator = this.evaluator;
      if (!evaluator) {
        ack(encodeAck({ ok: false, error: { code: 'FEDTL_ERR_INTERNAL', message: 'this test client does not evaluate' } }));
        return;
      }
      ack(encodeAck({ ok: true }));
      evaluator(decodeEvaluateRequest(payload)).catch((err) => this.errors.push(err as Error));
    });
  }

  async join(overrides: Partial<JoinRequest> = {}): Promise<JoinReply> {
    const payload = encodeJoin({
      clientId: this.clientId,
      token: this.token,
      protocolVersion: PROTOCOL_VERSION,
      backbone: this.backbone,
      labels: ['a', 'b'],
      numTrainExamples: 40,
      numTestExamples: 10,
      ...overrides,
    });
    return decodeJoinReply(await emitWithAck(this.socket as never, 'join', payload, 10_000));
  }

  /** Resolves with the next round plan this client receives (or one it already received for `round`). */
  nextPlan(round?: number): Promise<RoundPlan> {
    const seen = round === undefined ? undefined : this.plans.find((p) => p.round === round);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => {
      const listener = (plan: RoundPlan) => {
        if (round !== undefined && plan.round !== round) return;
        this.planListeners = this.planListeners.filter((l) => l !== listener);
        resolve(plan);
      };
      this.planListeners.push(listener);
    });
  }

  /** Sends an update with the given (default: zero) delta; resolves with 'accepted' or the refusal's code. */
  sendUpdate(plan: RoundPlan, delta?: NamedTensor[], numExamples = 10): Promise<string> {
    const tensors = delta ?? plan.weights.map((t) => ({ ...t, data: new Float32Array(t.data.length) }));
    return this.sendRawUpdate(encodeUpdate({ runId: plan.runId, round: plan.round, clientId: this.clientId, delta: tensors, numExamples, metrics: {} }));
  }

  /** Sends any bytes as an update, however malformed; resolves with 'accepted' or the refusal's code. */
  async sendRawUpdate(payload: Uint8Array): Promise<string> {
    const reply = decodeAck(await emitWithAck(this.socket as never, 'update', payload, 10_000));
    return reply.ok ? 'accepted' : (reply.error?.code ?? 'refused without a code');
  }

  /** Reports that this client cannot do the round it accepted; resolves with 'accepted' or the refusal's code. */
  async sendRoundFailed(message: string, code: ErrorCode = 'FEDTL_ERR_INTERNAL'): Promise<string> {
    const payload = encodeError({ code, message });
    const reply = decodeAck(await emitWithAck(this.socket as never, 'round-failed', payload, 10_000));
    return reply.ok ? 'accepted' : (reply.error?.code ?? 'refused without a code');
  }

  /** Sends an evaluation report; resolves with 'accepted' or the refusal's code. */
  async sendEvaluateReport(report: EvaluateReport): Promise<string> {
    const reply = decodeAck(await emitWithAck(this.socket as never, 'evaluate-report', encodeEvaluateReport(report), 10_000));
    return reply.ok ? 'accepted' : (reply.error?.code ?? 'refused without a code');
  }

  /** Accepts every evaluation request and calls `answer` with it (instead of declining). */
  onEvaluateRequest(answer: (request: EvaluateRequest) => Promise<void>): void {
    this.evaluator = answer;
  }

  /** Calls `answer` with every round plan as it arrives (for clients scripted per round). */
  onPlan(answer: (plan: RoundPlan) => Promise<void>): void {
    this.planListeners.push((plan) => {
      answer(plan).catch((err) => this.errors.push(err as Error));
    });
  }

  close(): void {
    this.socket.disconnect();
  }
}
