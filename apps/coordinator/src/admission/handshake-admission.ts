// Admission at the HTTP upgrade, before engine.io accepts a WebSocket: the federation token or a per-client
// token (header `Authorization: Bearer <token>`), caps on open connections in total and per remote address, and
// a rate limit on failed authentication per address. A refused handshake never gets a WebSocket, so nothing it sends is
// buffered (maxHttpBufferSize is sized for the model: tens of MB per connection). Refusals are answered with an
// HTTP status the client can act on: 401 (wrong token: give up), 429 and 503 (retry later). A live dashboard's
// handshake (dashboard-handshake.ts; a browser cannot send the header) is admitted under caps of its own and
// authenticates in its namespace, where failures count against the same rate limit.
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { createLogger, secretsEqual, type ErrorCode } from '@fedtl/util';
import type { TokenCheck } from '../credentials/token-store';
import { DASHBOARD_CONNECTION_CAPS, isDashboardHandshake } from '../dashboard/dashboard-handshake';

export interface HandshakeAdmissionOptions {
  /** The federation token; empty and no `clientTokens` means no authentication (loopback demos, or --allow-unauthenticated). */
  token: string;
  /**
   * Per-client tokens (the token store), when on: a valid, unrevoked one is admitted too. The client id it was
   * issued to is not known here (it comes with the Join), so it is bound to the client id at the Join.
   */
  clientTokens?: { check(token: string): Promise<TokenCheck> };
  /** Open Socket.IO connections at most, all addresses together. */
  maxConnections: number;
  /** Open Socket.IO connections at most from one remote address. */
  maxConnectionsPerAddress: number;
  /** Failed authentications one address may make per window before its handshakes are refused unread. */
  maxAuthFailures: number;
  /** The rate limit's window, and the period of the refusal summary in the log, in milliseconds. */
  authFailureWindowMs: number;
}

export interface HandshakeRefusal {
  status: 401 | 429 | 503;
  code: ErrorCode;
  message: string;
  /** Seconds after which a retry may succeed (429 and 503). */
  retryAfterS?: number;
}

/** The status line of each refusal, which a client sees as "Unexpected server response: <status>". */
export const HANDSHAKE_REFUSAL_STATUS: Record<number, ErrorCode> = {
  401: 'FEDTL_ERR_UNAUTHORIZED',
  429: 'FEDTL_ERR_RATE_LIMITED',
  503: 'FEDTL_ERR_TOO_MANY_CONNECTIONS',
};

/** The token a handshake carries in `Authorization: Bearer <token>`; '' when there is none. */
export function bearerToken(request: IncomingMessage): string {
  const header = request.headers.authorization;
  return typeof header === 'string' && header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
}

/**
 * Whether `token` is the shared federation token or, with per-client tokens on, a valid unrevoked one (which
 * client it belongs to is checked at the Join). The handshake and the Socket.IO middleware ask this.
 */
export async function tokenAdmits(token: string, options: Pick<HandshakeAdmissionOptions, 'token' | 'clientTokens'>): Promise<boolean> {
  if (options.token && secretsEqual(token, options.token)) return true;
  return options.clientTokens !== undefined && (await options.clientTokens.check(token)).status === 'valid';
}

const log = createLogger('admission');

/** Open connections of one kind, in total and per remote address, each counted until its TCP connection closes. */
class OpenConnections {
  private readonly perAddress = new Map<string, number>();
  total = 0;

  from(address: string): number {
    return this.perAddress.get(address) ?? 0;
  }

  track(request: IncomingMessage): void {
    const address = request.socket.remoteAddress ?? 'unknown';
    this.total++;
    this.perAddress.set(address, this.from(address) + 1);
    request.socket.once('close', () => {
      this.total--;
      const left = this.from(address) - 1;
      if (left > 0) this.perAddress.set(address, left);
      else this.perAddress.delete(address);
    });
  }
}

export class HandshakeAdmission {
  /** Federation connections: the caps of the options. */
  private readonly federation = new OpenConnections();
  /** Live dashboards' connections (dashboard-handshake.ts): caps of their own, so they never crowd out clients. */
  private readonly dashboards = new OpenConnections();
  private readonly failures: RateLimiterMemory;
  /** Failed handshakes per address since the last summary; an address is logged at its first one only. */
  private readonly windowFailures = new Map<string, number>();
  private windowRateLimited = 0;
  private readonly summaryTimer: NodeJS.Timeout;

  constructor(private readonly options: HandshakeAdmissionOptions) {
    this.failures = new RateLimiterMemory({ points: options.maxAuthFailures, duration: options.authFailureWindowMs / 1000 });
    this.summaryTimer = setInterval(() => this.logSummary(), options.authFailureWindowMs);
    this.summaryTimer.unref();
  }

  /** Open federation connections admitted here and not yet closed, in total. */
  get openConnections(): number {
    return this.federation.total;
  }

  /** Open dashboard connections admitted here and not yet closed, in total. */
  get openDashboardConnections(): number {
    return this.dashboards.total;
  }

  /**
   * Counts a failed authentication that happened after the handshake (the dashboard's, in its namespace) against
   * `address`'s rate limit, as a wrong token at the handshake would be.
   */
  async noteFailedAuthentication(address: string): Promise<void> {
    await this.failures.penalty(address, 1);
    this.noteFailure(address);
  }

  /**
   * engine.io's `allowRequest` hook. An admitted handshake is counted until its TCP connection closes; a refused
   * one is answered with its HTTP status and closed before any WebSocket frame is read.
   */
  readonly allowRequest = (request: IncomingMessage, callback: (message: string | null | undefined, success: boolean) => void): void => {
    this.decide(request).then(
      (refusal) => {
        if (!refusal) {
          (isDashboardHandshake(request) ? this.dashboards : this.federation).track(request);
          callback(null, true);
          return;
        }
        answerRefusal(request, refusal);
        callback(refusal.message, false);
      },
      (err: Error) => {
        log.error('admission failed; refusing the handshake', { error: err.message });
        callback('internal error', false);
      },
    );
  };

  /**
   * Decides on one handshake: undefined admits it. A rate-limited address is refused without its token being
   * compared; the caps count only admitted connections, so refused peers cannot fill them.
   */
  async decide(request: IncomingMessage): Promise<HandshakeRefusal | undefined> {
    const o = this.options;
    const address = request.socket.remoteAddress ?? 'unknown';
    const dashboard = isDashboardHandshake(request);
    if (o.token || o.clientTokens) {
      const limited = await this.failures.get(address);
      if (limited && limited.consumedPoints >= o.maxAuthFailures) {
        this.windowRateLimited++;
        return {
          status: 429,
          code: 'FEDTL_ERR_RATE_LIMITED',
          message: `expected at most ${o.maxAuthFailures} failed authentications per ${o.authFailureWindowMs} ms from ${address}, got more; retry later`,
          retryAfterS: Math.ceil(limited.msBeforeNext / 1000),
        };
      }
      // A dashboard authenticates in its namespace (a browser cannot send the header), where a refusal has a reason.
      if (!dashboard && !(await tokenAdmits(bearerToken(request), o))) {
        await this.failures.penalty(address, 1);
        this.noteFailure(address);
        const expected = o.clientTokens ? `${o.token ? 'the federation token or ' : ''}a valid per-client token` : 'the federation token';
        return { status: 401, code: 'FEDTL_ERR_UNAUTHORIZED', message: `expected ${expected} in "Authorization: Bearer <token>", got a missing or wrong one` };
      }
    }
    if (dashboard) {
      const caps = DASHBOARD_CONNECTION_CAPS;
      if (this.dashboards.total >= caps.total || this.dashboards.from(address) >= caps.perAddress) {
        return { status: 503, code: 'FEDTL_ERR_TOO_MANY_CONNECTIONS', message: `expected at most ${caps.total} open dashboard connections, ${caps.perAddress} from one address, got one more (${address})`, retryAfterS: 5 };
      }
      return undefined;
    }
    if (this.federation.total >= o.maxConnections) {
      return { status: 503, code: 'FEDTL_ERR_TOO_MANY_CONNECTIONS', message: `expected at most ${o.maxConnections} open connections in total (--max-connections), got one more`, retryAfterS: 5 };
    }
    if (this.federation.from(address) >= o.maxConnectionsPerAddress) {
      return {
        status: 503,
        code: 'FEDTL_ERR_TOO_MANY_CONNECTIONS',
        message: `expected at most ${o.maxConnectionsPerAddress} open connections from ${address} (--max-connections-per-address), got one more`,
        retryAfterS: 5,
      };
    }
    return undefined;
  }

  /** Logs what the sampled lines left out since the last summary: counts, never one line per attempt. */
  logSummary(): void {
    const failed = [...this.windowFailures.values()].reduce((sum, n) => sum + n, 0);
    if (failed > this.windowFailures.size || this.windowRateLimited > 0) {
      log.warn('refused handshakes since the last summary', {
        failedAuthentications: failed,
        addresses: this.windowFailures.size,
        rateLimited: this.windowRateLimited,
      });
    }
    this.windowFailures.clear();
    this.windowRateLimited = 0;
  }

  close(): void {
    clearInterval(this.summaryTimer);
  }

  private noteFailure(address: string): void {
    const seen = this.windowFailures.get(address) ?? 0;
    this.windowFailures.set(address, seen + 1);
    if (seen === 0) log.warn('refused a handshake: missing or wrong token (further ones from this address are counted in a summary)', { address });
  }
}

/**
 * Writes the refusal's status line on the raw connection of an upgrade request (engine.io's own abort would
 * answer 400 for everything) and ends it; engine.io then finds the socket finished and only destroys it.
 */
function answerRefusal(request: IncomingMessage, refusal: HandshakeRefusal): void {
  const socket = request.socket;
  if (!socket.writable) return;
  const body = `${refusal.code}: ${refusal.message}\n`;
  const headers = [
    `HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status]}`,
    'Connection: close',
    'Content-Type: text/plain; charset=utf-8',
    `X-Fedtl-Error: ${refusal.code}`,
    ...(refusal.retryAfterS !== undefined ? [`Retry-After: ${refusal.retryAfterS}`] : []),
    `Content-Length: ${Buffer.byteLength(body)}`,
  ];
  socket.end(`${headers.join('\r\n')}\r\n\r\n${body}`);
}
