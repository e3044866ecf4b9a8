// The coordinator's plain-HTTP side, next to Socket.IO on the same port: the dashboard page, its JSON
// status, and Prometheus metrics. Read-only. Who sees what is status-access.ts's: the operator token sees every
// client, the federation token run-level aggregates (and its own client under mutual TLS).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DASHBOARD_HTML } from './dashboard-page';
import { renderPrometheus } from './prometheus';
import type { RunStatus } from './run-status';
import { federationView, statusViewer, type StatusAccessOptions } from './status-access';

/** Answers a request that is not Socket.IO's; returns false for paths it does not serve. */
export function handleHttpRequest(request: IncomingMessage, response: ServerResponse, status: RunStatus, access: StatusAccessOptions): boolean {
  const url = new URL(request.url ?? '/', 'http://coordinator');
  const send = (code: number, type: string, body: string) => {
    response.writeHead(code, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    response.end(body);
  };
  if (request.method !== 'GET') return false;
  switch (url.pathname) {
    case '/':
      send(200, 'text/html; charset=utf-8', DASHBOARD_HTML);
      return true;
    case '/healthz':
      send(200, 'text/plain; charset=utf-8', 'ok\n');
      return true;
    case '/api/status':
    case '/metrics':
      {
        const viewer = statusViewer(request, url, access);
        if (viewer.view === 'denied') {
          send(401, 'text/plain; charset=utf-8', `unauthorized: expected the operator token${access.token ? ' or the federation token' : ''} as "Authorization: Bearer <token>" or ?token=\n`);
        } else if (url.pathname === '/metrics') {
          // Run-level aggregates only, whoever asks.
          send(200, 'text/plain; version=0.0.4; charset=utf-8', renderPrometheus(status.snapshot()));
        } else {
          const snapshot = status.snapshot();
          send(200, 'application/json', JSON.stringify(viewer.view === 'operator' ? snapshot : federationView(snapshot, viewer.ownClientIds)));
        }
      }
      return true;
    default:
      return false;
  }
}
