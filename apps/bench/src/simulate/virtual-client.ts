// One virtual client of the simulation: one Socket.IO connection speaking the real protocol (Join with the
// backbone's hash, RoundPlan → Update, RunEnd), and nothing else in memory but its id and its row range. When the
// coordinator samples it, its training job (the plan's weights and config, its rows of the shared feature
// table) goes to the worker pool; the update goes back over its own socket. It declares no test examples, so the
// coordinator never asks it to evaluate (the global model is scored centrally, see round-observer.ts).
import { io, type Socket } from 'socket.io-client';
import {
  PROTOCOL_VERSION,
  decodeAck,
  decodeError,
  decodeJoinReply,
  decodeRoundPlan,
  decodeRunEnd,
  emitWithAck,
  encodeAck,
  encodeJoin,
  encodeUpdate,
  type BackboneRef,
  type ClientToServerEvents,
  type ModelSpec,
  type RoundPlan,
  type RunEnd,
  type ServerToClientEvents,
} from '@fedtl/protocol';
import { deriveSeed } from '@fedtl/util';
import type { RowRange } from './shared-features';
import type { TrainedUpdate, TrainingJob } from './simulation-worker';

export interface VirtualClientOptions {
  url: string;
  clientId: string;
  backbone: BackboneRef;
  /** The labels this client's rows carry (its Join declares them). */
  labels: string[];
  rows: RowRange;
  ackTimeoutMs: number;
  /** Where its training jobs go: the pool shared by all virtual clients. */
  train: (job: TrainingJob) => Promise<TrainedUpdate>;
  /** Called with each error as it happens (it is also kept in `errors`), so a run can stop at once. */
  onError?: (message: string) => void;
}

export class VirtualClient {
  private readonly socket: Socket<ServerToClientEvents, ClientToServerEvents>;
  private spec?: ModelSpec;
  /**
   * The welcome's model, once the join is acknowledged. A plan can be handled before the join's continuation
   * runs (the coordinator starts round 1 as the last client joins, and both packets may arrive in one read), so
   * training waits on this rather than reading `spec`.
   */
  private readonly welcomed: Promise<ModelSpec>;
  private welcome!: (spec: ModelSpec) => void;
  /** Everything that went wrong (refused requests, failed jobs, errors from the coordinator); a clean run has none. */
  readonly errors: string[] = [];
  /** Rounds this client trained in and had its update accepted. */
  readonly roundsTrained: number[] = [];
  verdict?: RunEnd;

  constructor(private readonly options: VirtualClientOptions) {
    this.welcomed = new Promise((resolve) => {
      this.welcome = resolve;
    });
    this.socket = io(options.url, { transports: ['websocket'], reconnection: false, forceNew: true, autoConnect: false });
    this.socket.on('round-plan', (payload, ack) => {
      ack(encodeAck({ ok: true }));
      void this.report('update', () => this.trainAndSend(decodeRoundPlan(payload)));
    });
    this.socket.on('evaluate-request', (_payload, ack) => {
      ack(encodeAck({ ok: false, error: { code: 'FEDTL_ERR_INTERNAL', message: 'a virtual client declares no test examples and cannot evaluate' } }));
      this.fail(`${options.clientId}: asked to evaluate, having declared no test examples`);
    });
    this.socket.on('run-end', (payload, ack) => {
      this.verdict = decodeRunEnd(payload);
      ack(encodeAck({ ok: true }));
    });
    this.socket.on('fedtl-error', (payload) => {
      const error = decodeError(payload);
      this.fail(`${options.clientId}: the coordinator said ${error.code}: ${error.message}`);
    });
  }

  get clientId(): string {
    return this.options.clientId;
  }

  /** The federation's model, from the coordinator's welcome; undefined before joining. */
  get modelSpec(): ModelSpec | undefined {
    return this.spec;
  }

  /** Connects and joins (0 test examples); rejects when either fails or the coordinator refuses. */
  async join(): Promise<void> {
    const { clientId, backbone, labels, rows } = this.options;
    await new Promise<void>((resolve, reject) => {
      this.socket.once('connect', resolve);
      this.socket.once('connect_error', reject);
      this.socket.connect();
    });
    const payload = encodeJoin({ clientId, token: '', protocolVersion: PROTOCOL_VERSION, backbone, labels, numTrainExamples: rows.count, numTestExamples: 0 });
    const reply = decodeJoinReply(await emitWithAck(this.socket, 'join', payload, this.options.ackTimeoutMs));
    if (!reply.ok) throw new Error(`${clientId} was refused: ${reply.error.code}: ${reply.error.message}`);
    this.spec = reply.welcome.model;
    this.welcome(reply.welcome.model);
  }

  close(): void {
    this.socket.disconnect();
  }

  /** As the real client: its own shuffle seed mixed from the round's and its id (federated-client.ts). */
  private async trainAndSend(plan: RoundPlan): Promise<void> {
    const spec = await this.welcomed;
    if (plan.secureAggregation) throw new Error('the simulation does not run secure aggregation');
    const config = { ...plan.config, seed: deriveSeed(plan.config.seed, this.options.clientId) };
    const update = await this.options.train({ spec, weights: plan.weights, config, rows: this.options.rows });
    const payload = encodeUpdate({ runId: plan.runId, round: plan.round, clientId: this.options.clientId, delta: update.delta, numExamples: update.numExamples, metrics: update.metrics });
    const reply = decodeAck(await emitWithAck(this.socket, 'update', payload, this.options.ackTimeoutMs));
    if (!reply.ok) throw new Error(`${reply.error?.code}: ${reply.error?.message}`);
    this.roundsTrained.push(plan.round);
  }

  private async report(what: string, send: () => Promise<void>): Promise<void> {
    try {
      await send();
    } catch (err) {
      this.fail(`${this.options.clientId} ${what}: ${(err as Error).message}`);
    }
  }

  private fail(message: string): void {
    this.errors.push(message);
    this.options.onError?.(message);
  }
}
