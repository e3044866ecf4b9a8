// The Socket.IO endpoint: decodes every message at the edge, routes it to the Coordinator, and answers with
// an acknowledgement. Nothing a client sends can throw past this file: a malformed or hostile message is
// answered with an Error and, if the client was training this round, leaves it out of the round.
import { AsyncResource } from 'node:async_hooks';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { Server, type Socket } from 'socket.io';
import {
  decodeAdvertiseKeys,
  decodeEvaluateReport,
  decodeJoin,
  decodeMaskedInput,
  decodeShareKeys,
  decodeUnmaskShares,
  decodeUpdate,
  emitWithAck,
  encodeAck,
  encodeError,
  encodeJoinReply,
  encodeRunEnd,
  decodeAck,
  decodeError,
  maxHttpBufferSizeFor,
  type ClientRequestEvent,
  type ClientToServerEvents,
  type RunEnd,
  type ServerRequestEvent,
  type ServerToClientEvents,
} from '@fedtl/protocol';
import { FedtlError, createLogger, isArrayBuffer, quoteUntrusted, toFedtlError } from '@fedtl/util';
import { HandshakeAdmission, tokenAdmits, type HandshakeAdmissionOptions } from './admission/handshake-admission';
import { certificateIdentities, checkCertificateIdentity } from './admission/certificate-identity';
import { probeLiveness } from './admission/liveness';
import type { ClientLink } from './client-registry';
import type { ClientCredentials } from './credentials/client-credentials';
import { RefusalLog } from './refusal-log';
import { HTTP_PATHS, handleHttpRequest } from './dashboard/http-routes';
import { isDashboardHandshake } from './dashboard/dashboard-handshake';
import { LiveDashboard } from './dashboard/live-dashboard';
import { CoordinatorMetrics } from './dashboard/metrics';
import { notReadyReason, type ReadinessState } from './dashboard/readiness';
import type { RunStatus } from './dashboard/run-status';
import type { Coordinator, SecAggMessage } from './coordinator';
import type { TrafficCounter } from './traffic-counter';

export interface ServerOptions {
  host: string;
  port: number;
  token: string;
  /** Secret for the full status API; empty: nobody gets per-client detail remotely. */
  operatorToken: string;
  /** Bytes of one full set of trainable weights: sizes the largest message the server accepts. */
  modelBytes: number;
  /** How long a client may take to acknowledge a request (a plan, an evaluation request, the verdict). */
  ackTimeoutMs: number;
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  tls?: { cert: string; key: string; clientCa?: string };
  /** Per-client tokens (the token store), when on: verified at the handshake, the middleware and the Join. */
  clientCredentials?: ClientCredentials;
  /** Caps and the failed-authentication rate limit applied at the handshake (see HandshakeAdmission). */
  limits: Omit<HandshakeAdmissionOptions, 'token' | 'clientTokens'>;
  /** Where rounds are checkpointed: /readyz reports not ready while it is not writable. */
  checkpointsDir: string;
}

type FedtlSocket = Socket<ClientToServerEvents, ServerToClientEvents>;
type AckFn = (reply: Uint8Array) => void;

const log = createLogger('server');

/** The events a client may send (events.ts); anything else is answered with FEDTL_ERR_MALFORMED_MESSAGE. */
const CLIENT_EVENTS: ReadonlySet<string> = new Set<ClientRequestEvent>([
  'join',
  'update',
  'evaluate-report',
  'round-failed',
  'evaluate-failed',
  'secagg-advertise',
  'secagg-shares',
  'secagg-masked-input',
  'secagg-unmask-shares',
]);

/** Each secure-aggregation event and the decoder of its payload. */
const SECAGG_EVENTS = {
  'secagg-advertise': (payload: unknown): SecAggMessage => ({ kind: 'advertise', body: decodeAdvertiseKeys(payload) }),
  'secagg-shares': (payload: unknown): SecAggMessage => ({ kind: 'shares', body: decodeShareKeys(payload) }),
  'secagg-masked-input': (payload: unknown): SecAggMessage => ({ kind: 'masked-input', body: decodeMaskedInput(payload) }),
  'secagg-unmask-shares': (payload: unknown): SecAggMessage => ({ kind: 'unmask-shares', body: decodeUnmaskShares(payload) }),
} as const;

/** The Socket.IO browser client the dashboard page loads from the coordinator itself (no CDN). */
let socketIoClient: string | undefined;
function socketIoClientScript(): string {
  // The package exports only its unminified build; the minified one sits beside it.
  socketIoClient ??= readFileSync(join(dirname(require.resolve('socket.io-client/package.json')), 'dist', 'socket.io.min.js'), 'utf8');
  return socketIoClient;
}

/** How long close() lets connections end on their own before it cuts them (a half-closed peer never ends). */
export const CLOSE_GRACE_MS = 2_000;

/** How long a connection may stay open without opening a Socket.IO namespace (see connectTimeout below). */
export const NAMESPACE_CONNECT_TIMEOUT_MS = 5_000;

export class CoordinatorServer {
  private readonly http: HttpServer;
  readonly io: Server<ClientToServerEvents, ServerToClientEvents>;
  /** The largest message payload accepted, in bytes: told to every client in its Welcome. */
  private readonly maxMessageBytes: number;
  /** The run's verdict once decided: a client that joins later is told it at once. */
  private verdict?: { payload: Uint8Array; summary: RunEnd };
  readonly admission: HandshakeAdmission;
  /** The connection each joined client id is held by: one live connection per id. */
  private readonly holders = new Map<string, FedtlSocket>();
  private readonly readiness: ReadinessState;
  private readonly dashboard: LiveDashboard;

  constructor(
    private readonly coordinator: Coordinator,
    private readonly traffic: TrafficCounter,
    private readonly options: ServerOptions,
    private readonly status: RunStatus,
  ) {
    this.readiness = { server: 'starting', stopped: false, checkpointsDir: options.checkpointsDir };
    const access = { token: options.token, operatorToken: options.operatorToken, mutualTls: Boolean(options.tls?.clientCa), clientTokens: Boolean(options.clientCredentials) };
    const metrics = new CoordinatorMetrics(status, coordinator, coordinator.privacy !== undefined);
    const sources = {
      status,
      metrics,
      socketIoClient: socketIoClientScript(),
      notReadyReason: () => notReadyReason({ ...this.readiness, stopped: coordinator.phase === 'stopped' }),
    };
    this.http = options.tls
      ? createHttpsServer({
          cert: options.tls.cert,
          key: options.tls.key,
          ca: options.tls.clientCa,
          requestCert: Boolean(options.tls.clientCa),
          rejectUnauthorized: Boolean(options.tls.clientCa),
        })
      : createHttpServer();
    // Connections arrive outside the async context this server was made in (libuv creates their sockets), so
    // every entry point below is bound to it (AsyncResource.bind): the run's log fields (withLogFields in
    // run-coordinator, its runId) stay on every line logged while handling a client.
    // Registered before Socket.IO attaches: engine.io then hands us every request outside its own path.
    this.http.on('request', AsyncResource.bind((req, res) => {
      if (handleHttpRequest(req, res, sources, access)) return;
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`not found: this coordinator serves ${HTTP_PATHS.join(', ')} and Socket.IO\n`);
    }));
    this.maxMessageBytes = maxHttpBufferSizeFor(options.modelBytes);
    this.admission = new HandshakeAdmission({ token: options.token, clientTokens: options.clientCredentials, ...options.limits });
    this.io = new Server(this.http, {
      // WebSocket only: every handshake is an HTTP upgrade that allowRequest sees before any frame is read.
      transports: ['websocket'],
      allowRequest: AsyncResource.bind(this.admission.allowRequest),
      maxHttpBufferSize: this.maxMessageBytes,
      serveClient: false,
      pingInterval: options.heartbeatIntervalMs,
      pingTimeout: options.heartbeatTimeoutMs,
      // A connection that opens no namespace is closed after this long (Socket.IO's default is 45 s). Clients open
      // theirs at once; a dashboard connection that never does would otherwise hold one of the dashboards' few
      // slots for 45 s without ever presenting a token.
      connectTimeout: NAMESPACE_CONNECT_TIMEOUT_MS,
    });
    this.io.use(AsyncResource.bind((socket, next) => {
      if (isDashboardHandshake(socket.request)) {
        const error = new Error('forbidden: this connection was admitted for the dashboard (namespace /dashboard) only') as Error & { data: unknown };
        error.data = { code: 'FEDTL_ERR_UNAUTHORIZED' };
        return next(error);
      }
      const token = (socket.handshake.auth as { token?: unknown }).token;
      const authentication = { token: options.token, clientTokens: options.clientCredentials };
      if (!authentication.token && !authentication.clientTokens) return next();
      tokenAdmits(typeof token === 'string' ? token : '', authentication).then(
        (admitted) => {
          if (admitted) return next();
          const error = new Error('unauthorized: the token is missing or wrong') as Error & { data: unknown };
          error.data = { code: 'FEDTL_ERR_UNAUTHORIZED' };
          log.warn('refused a connection with a bad token', { address: socket.handshake.address });
          next(error);
        },
        (err: Error) => {
          log.error('token check failed; refusing the connection', { error: err.message });
          next(new Error('internal error'));
        },
      );
    }));
    this.io.on('connection', AsyncResource.bind((socket) => this.onConnection(socket)));
    const countFailure = (address: string) => {
      this.admission.noteFailedAuthentication(address).catch((err: Error) => log.error('could not count a failed authentication', { error: err.message }));
    };
    this.dashboard = new LiveDashboard(this.io as unknown as Server, status, access, countFailure);
    // A dashboard connection that closes without ever presenting a token counts as a failed authentication, so an
    // address that keeps squatting the dashboards' slots is soon refused at the upgrade (--max-auth-failures).
    this.io.engine.on('connection', (raw: { request: IncomingMessage; once(event: 'close', listener: () => void): void }) => {
      if (!isDashboardHandshake(raw.request)) return;
      raw.once('close', () => {
        if (!this.dashboard.triedToAuthenticate(raw)) countFailure(raw.request.socket.remoteAddress ?? 'unknown');
      });
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', (err: NodeJS.ErrnoException) => reject(listenError(err, this.options.host, this.options.port)));
      this.http.listen(this.options.port, this.options.host, () => {
        this.http.off('error', reject);
        resolve();
      });
    });
    this.readiness.server = 'listening';
    const { port } = this.http.address() as AddressInfo;
    const host = this.options.host.includes(':') ? `[${this.options.host}]` : this.options.host;
    return `${this.options.tls ? 'https' : 'http'}://${host}:${port}`;
  }

  /**
   * Sends the run's verdict (a RunEnd) to every connected client, waits for their acknowledgements (each at
   * most the ack timeout; a client that does not answer is not waited for longer), then ends every session.
   * A client that joins afterwards is told the verdict at once. The dashboard keeps serving. Never throws.
   */
  async endRun(verdict: RunEnd): Promise<void> {
    const payload = encodeRunEnd(verdict);
    this.verdict = { payload, summary: verdict };
    this.readiness.verdict = verdict;
    this.status.noteVerdict(verdict);
    // To the run's clients: a connection that never joined is no participant, and would only hold the end of the
    // run up for an acknowledgement it does not owe. It is disconnected with the rest.
    const sockets = [...this.holders.values()];
    log.info('sending the verdict to the clients', { status: verdict.status, clients: sockets.length });
    await Promise.allSettled(sockets.map((socket) => this.sendVerdict(socket)));
    this.io.disconnectSockets(true);
  }

  /**
   * Stops listening and drops the connections without ending the sessions: clients see a lost connection and
   * keep reconnecting, so a restarted coordinator finds them again and resumes the run. Connections that have
   * not ended after `graceMs` (a half-closed or frozen peer) are cut, so closing never waits on a client.
   */
  async close(graceMs = CLOSE_GRACE_MS): Promise<void> {
    this.readiness.server = 'closing';
    this.dashboard.close();
    this.admission.close();
    const closed = new Promise<void>((resolve) => this.io.close(() => resolve()));
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<'grace over'>((resolve) => (timer = setTimeout(() => resolve('grace over'), graceMs)));
    if ((await Promise.race([closed, grace])) === 'grace over') {
      log.warn('connections still open after the grace period; closing them', { graceMs });
      this.http.closeAllConnections();
      await closed;
    }
    clearTimeout(timer);
  }

  /** Sends the verdict to one socket; resolves when acknowledged or after the ack timeout. */
  private async sendVerdict(socket: FedtlSocket): Promise<void> {
    if (!this.verdict) return;
    this.traffic.countDown(this.verdict.payload.byteLength);
    try {
      await emitWithAck(socket, 'run-end', this.verdict.payload, this.options.ackTimeoutMs);
    } catch (err) {
      log.warn('a client did not acknowledge the verdict', { error: toFedtlError(err).message });
    }
  }

  private onConnection(socket: FedtlSocket): void {
    let clientId: string | undefined;
    const link = this.linkFor(socket);
    const refusals = new RefusalLog(log, () => (clientId === undefined ? { address: socket.handshake.address } : { address: socket.handshake.address, clientId }));
    // A connection that never joins would hold a slot of the connection caps for nothing. It gets the time a join
    // can take (an acknowledgement, plus a duplicate id's liveness probe), then it is told and closed.
    const joinDeadlineMs = this.options.ackTimeoutMs + this.options.heartbeatIntervalMs + this.options.heartbeatTimeoutMs;
    const joinDeadline = setTimeout(() => {
      if (clientId !== undefined) return;
      const error = { code: 'FEDTL_ERR_NOT_JOINED' as const, message: `expected a join within ${joinDeadlineMs} ms of connecting, got none; closing the connection` };
      refusals.refused('closed a connection that did not join', { event: 'join', ...error, error: error.message });
      socket.emit('fedtl-error', encodeError(error));
      socket.disconnect(true);
    }, joinDeadlineMs);
    joinDeadline.unref();
    const guard = (event: string, handler: (payload: unknown, ack: AckFn) => void | Promise<void>) =>
      socket.on(event as 'join', AsyncResource.bind((payload: unknown, ack: unknown) => {
        const reply: AckFn = typeof ack === 'function' ? (ack as AckFn) : () => undefined;
        this.traffic.countUp(byteLength(payload), event === 'update');
        Promise.resolve()
          .then(() => handler(payload, reply))
          .catch((err) => {
            const error = toFedtlError(err);
            refusals.refused('refused a message', { event, code: error.code, error: error.message });
            reply(encodeAck({ ok: false, error: { code: error.code, message: error.message } }));
          });
      }));

    let joining = false;
    guard('join', async (payload, ack) => {
      let claimedId: string | undefined;
      try {
        // One join per connection: a repeated Join would make the coordinator re-send the round plan each time.
        if (clientId !== undefined) throw new FedtlError('FEDTL_ERR_DUPLICATE_CLIENT', `expected one join per connection, got another on a connection that joined as "${clientId}"`);
        if (joining) throw new FedtlError('FEDTL_ERR_DUPLICATE_CLIENT', 'expected one join per connection, got another while this connection\'s join is in progress');
        joining = true;
        const join = decodeJoin(payload);
        claimedId = join.clientId;
        if (this.verdict) {
          // The run is over: the verdict goes first, so the client reads the refusal as what it is.
          void this.sendVerdict(socket);
          const { summary } = this.verdict;
          throw summary.status === 'failed'
            ? new FedtlError(summary.error.code, `the run failed: ${summary.error.message}`)
            : new FedtlError('FEDTL_ERR_WRONG_RUN', `expected a run in progress, got run ${summary.runId}, which finished after ${summary.roundsCompleted} rounds`);
        }
        if (this.options.tls?.clientCa) checkCertificateIdentity(join.clientId, certificateIdentities(socket.request.socket));
        // Verified here because scrypt is asynchronous; the coordinator decides on the outcome.
        const tokenCheck = this.options.clientCredentials ? await this.options.clientCredentials.check(join.token) : undefined;
        await this.requireIdFree(join.clientId, socket);
        if (socket.disconnected) return;
        const welcome = this.coordinator.handleJoin(link, join, tokenCheck);
        clientId = join.clientId;
        this.holders.set(join.clientId, socket);
        clearTimeout(joinDeadline);
        ack(encodeJoinReply({ ok: true, welcome: { ...welcome, maxMessageBytes: this.maxMessageBytes } }));
      } catch (err) {
        const error = toFedtlError(err);
        refusals.refused('refused a join', { event: 'join', code: error.code, error: error.message });
        this.coordinator.noteRefusedJoin(claimedId, { code: error.code, message: error.message });
        ack(encodeJoinReply({ ok: false, error: { code: error.code, message: error.message } }));
      } finally {
        joining = false;
      }
    });

    guard('update', async (payload, ack) => {
      const sender = this.requireJoined(clientId);
      let update;
      try {
        // Headers are checked against the model before any data is read: a sparse tensor is expanded only when
        // it is one of the model's, so a few hostile bytes cannot make the coordinator allocate more than the model.
        update = decodeUpdate(payload, { expectedTensors: this.coordinator.expectedTensors });
      } catch (err) {
        const error = toFedtlError(err);
        this.coordinator.handleBadMessage(sender, error.code, error.message);
        throw error;
      }
      await this.coordinator.handleUpdate(sender, update);
      ack(encodeAck({ ok: true }));
    });

    guard('round-failed', (payload, ack) => {
      const sender = this.requireJoined(clientId);
      const error = decodeError(payload);
      const why = error.code === 'FEDTL_ERR_POLICY_REFUSED' ? "the client's privacy policy refused the plan" : 'the client could not train';
      this.coordinator.handleBadMessage(sender, error.code, `${why}: ${error.message}`);
      ack(encodeAck({ ok: true }));
    });

    guard('evaluate-failed', (payload, ack) => {
      const sender = this.requireJoined(clientId);
      const error = decodeError(payload);
      this.coordinator.handleEvaluateFailed(sender, error);
      ack(encodeAck({ ok: true }));
    });

    guard('evaluate-report', (payload, ack) => {
      const sender = this.requireJoined(clientId);
      let report;
      try {
        report = decodeEvaluateReport(payload);
      } catch (err) {
        // Like a refused report, an undecodable one is the sender's answer: the evaluation stops waiting for it.
        this.coordinator.handleBadReport(sender);
        throw err;
      }
      this.coordinator.handleEvaluateReport(sender, report);
      ack(encodeAck({ ok: true }));
    });

    for (const [event, decode] of Object.entries(SECAGG_EVENTS)) {
      guard(event, (payload, ack) => {
        const sender = this.requireJoined(clientId);
        let message: SecAggMessage;
        try {
          message = decode(payload);
        } catch (err) {
          // Like an undecodable update: the sender is out of the attempt, and told why.
          const error = toFedtlError(err);
          this.coordinator.handleBadMessage(sender, error.code, error.message);
          throw error;
        }
        this.coordinator.handleSecAggMessage(sender, message);
        ack(encodeAck({ ok: true }));
      });
    }

    // An event outside the protocol is answered, not ignored: a sender waiting for its acknowledgement learns
    // why at once instead of at its timeout.
    socket.onAny(AsyncResource.bind((event: unknown, ...args: unknown[]) => {
      if (typeof event === 'string' && CLIENT_EVENTS.has(event)) return;
      this.traffic.countUp(byteLength(args[0]));
      const error = new FedtlError('FEDTL_ERR_MALFORMED_MESSAGE', `expected one of the events ${[...CLIENT_EVENTS].join(', ')}, got ${quoteUntrusted(String(event))}`);
      refusals.refused('refused a message', { event: quoteUntrusted(String(event)), code: error.code, error: error.message });
      const ack = args[args.length - 1];
      if (typeof ack === 'function') (ack as AckFn)(encodeAck({ ok: false, error: { code: error.code, message: error.message } }));
    }));

    socket.on('disconnect', AsyncResource.bind((reason) => {
      clearTimeout(joinDeadline);
      refusals.flush();
      if (clientId) {
        if (this.holders.get(clientId) === socket) this.holders.delete(clientId);
        log.info('client disconnected', { clientId, reason });
        this.coordinator.handleLeave(clientId, link);
      }
    }));
  }

  /**
   * Waits until `clientId` is free or refuses with FEDTL_ERR_DUPLICATE_CLIENT. An id held by another connection
   * is free once that connection is gone: a client rejoining after a drop may find its old, half-open connection
   * still registered, and the heartbeat closes that one within heartbeatInterval + heartbeatTimeout, so its
   * Join is answered then. An old connection that answers the heartbeat is a live holder: the newcomer is refused.
   */
  private async requireIdFree(clientId: string, newcomer: FedtlSocket): Promise<void> {
    const holder = this.holders.get(clientId);
    if (!holder || holder === newcomer) return;
    const waitMs = this.options.heartbeatIntervalMs + this.options.heartbeatTimeoutMs + 1000;
    if ((await probeLiveness(holder, waitMs)) === 'gone') return;
    throw new FedtlError(
      'FEDTL_ERR_DUPLICATE_CLIENT',
      `expected a client id no live connection holds, got "${clientId}", held by a live connection from ${holder.handshake.address}; each organisation needs its own --client-id`,
    );
  }

  private requireJoined(clientId: string | undefined): string {
    if (!clientId) throw new FedtlError('FEDTL_ERR_NOT_JOINED', 'expected a join before any other message, got a message from an unjoined connection');
    return clientId;
  }

  private linkFor(socket: FedtlSocket): ClientLink {
    const request = async (event: ServerRequestEvent, payload: Uint8Array) => {
      this.traffic.countDown(payload.byteLength);
      const ack = decodeAck(await emitWithAck(socket, event, payload, this.options.ackTimeoutMs));
      if (!ack.ok) throw new FedtlError(ack.error?.code ?? 'FEDTL_ERR_INTERNAL', ack.error?.message ?? `the client refused ${event}`);
    };
    return {
      sendRoundPlan: (encodedPlan) => request('round-plan', encodedPlan),
      sendEvaluateRequest: (encodedRequest) => request('evaluate-request', encodedRequest),
      sendSecAgg: (event, encoded) => request(event, encoded),
      sendError: (error) => {
        const payload = encodeError(error);
        this.traffic.countDown(payload.byteLength);
        socket.emit('fedtl-error', payload);
      },
      disconnect: () => {
        socket.disconnect(true);
      },
    };
  }
}

/** A failure to listen as a configuration error that names the address and what to do; other errors as they are. */
function listenError(err: NodeJS.ErrnoException, host: string, port: number): Error {
  if (err.code === 'EADDRINUSE') return new FedtlError('FEDTL_ERR_BAD_CONFIG', `--port: expected a free port on ${host}, got ${port}, which another process is listening on (EADDRINUSE); choose another --port or stop that process`);
  if (err.code === 'EACCES') return new FedtlError('FEDTL_ERR_BAD_CONFIG', `--port: expected a port this user may listen on, got ${port} (EACCES: ports below 1024 need privileges)`);
  if (err.code === 'EADDRNOTAVAIL') return new FedtlError('FEDTL_ERR_BAD_CONFIG', `--host: expected an address of this machine, got ${host} (EADDRNOTAVAIL)`);
  if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') return new FedtlError('FEDTL_ERR_BAD_CONFIG', `--host: expected an address or a name this machine resolves, got ${host} (${err.code})`);
  return new FedtlError('FEDTL_ERR_BAD_CONFIG', `--host/--port: expected an address and port to listen on, got ${host}:${port} (${err.code ?? err.message})`);
}

function byteLength(payload: unknown): number {
  if (isArrayBuffer(payload)) return payload.byteLength;
  if (ArrayBuffer.isView(payload)) return payload.byteLength;
  return 0;
}
