// The coordinator's plain-HTTP side, next to Socket.IO on the same port: the dashboard page and the Socket.IO
// browser client it loads, the JSON status, Prometheus metrics, liveness (/healthz) and readiness (/readyz). Read-only. Who sees what is status-access.ts's: the operator token sees every
// client, the federation token run-level aggregates (and its own client under mutual TLS).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DASHBOARD_HTML } from './dashboard-page';
import type { CoordinatorMetrics } from './metrics';
import type { RunStatus } from './run-status';
import { deniedReason, statusViewer, viewOf, type StatusAccessOptions } from './status-access';

/** What the HTTP side serves from. */
export interface HttpSources {
  status: RunStatus;
  metrics: CoordinatorMetrics;
  /** Undefined when the coordinator is ready to run rounds; otherwise why not (readiness.ts). */
  notReadyReason(): Promise<string | undefined>;
  /** The Socket.IO browser client (socket.io-client's dist/socket.io.min.js), served at /dashboard/socket.io.min.js. */
  socketIoClient: string;
}

/** The paths this file serves, for the 404 message. */
export const HTTP_PATHS = ['/', '/api/status', '/metrics', '/healthz', '/readyz', '/dashboard/socket.io.min.js'] as const;

/** Answers a request that is not Socket.IO's; returns false for paths it does not serve. */
export function handleHttpRequest(request: IncomingMessage, response: ServerResponse, sources: HttpSources, access: StatusAccessOptions): boolean {
  const url = new URL(request.url ?? '/', 'http://coordinator');
  const send = (code: number, type: string, body: string) => {
    if (response.headersSent) return;
    response.writeHead(code, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    response.end(body);
  };
  const sendText = (code: number, body: string) => send(code, 'text/plain; charset=utf-8', body);
  if (request.method !== 'GET') return false;
  switch (url.pathname) {
    case '/':
      send(200, 'text/html; charset=utf-8', DASHBOARD_HTML);
      return true;
    case '/dashboard/socket.io.min.js':
      send(200, 'text/javascript; charset=utf-8', sources.socketIoClient);
      return true;
    case '/healthz':
      sendText(200, 'ok\n');
      return true;
    case '/readyz':
      sources.notReadyReason().then(
        (reason) => (reason === undefined ? sendText(200, 'ready\n') : sendText(503, `not ready: ${reason}\n`)),
        (err: Error) => sendText(503, `not ready: ${err.message}\n`),
      );
      return true;
    case '/api/status':
    case '/metrics': {
      const viewer = statusViewer(request, url, access);
      if (viewer.view === 'denied') {
        sendText(401, `${deniedReason(access)} as "Authorization: Bearer <token>" or ?token=\n`);
      } else if (url.pathname === '/metrics') {
        // Run-level aggregates only, whoever asks.
        sources.metrics.render(sources.status.snapshot()).then(
          (body) => send(200, sources.metrics.registry.contentType, body),
          (err: Error) => sendText(500, `could not render the metrics: ${err.message}\n`),
        );
      } else {
        send(200, 'application/json', JSON.stringify(viewOf(sources.status.snapshot(), viewer)));
      }
      return true;
    }
    default:
      return false;
  }
}
