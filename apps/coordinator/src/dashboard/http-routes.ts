// The coordinator's plain-HTTP side, next to Socket.IO on the same port: the dashboard page, its JSON
// status, and Prometheus metrics. Read-only. When the federation has a token, the status and metrics need it
// too (`Authorization: Bearer <token>` or `?token=`), since they name the clients.
import { secretsEqual } from '@fedtl/util';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DASHBOARD_HTML } from './dashboard-page';
import { renderPrometheus } from './prometheus';
import type { RunStatus } from './run-status';

function tokenMatches(request: IncomingMessage, url: URL, token: string): boolean {
  const header = request.headers.authorization;
  const given = header?.startsWith('Bearer ') ? header.slice('Bearer '.length) : (url.searchParams.get('token') ?? '');
  return secretsEqual(given, token);
}

/** Answers a request that is not Socket.IO's; returns false for paths it does not serve. */
export function handleHttpRequest(request: IncomingMessage, response: ServerResponse, status: RunStatus, token: string): boolean {
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
      if (token && !tokenMatches(request, url, token)) {
        send(401, 'text/plain; charset=utf-8', 'unauthorized: expected the federation token as "Authorization: Bearer <token>" or ?token=\n');
      } else if (url.pathname === '/metrics') {
        send(200, 'text/plain; version=0.0.4; charset=utf-8', renderPrometheus(status.snapshot()));
      } else {
        send(200, 'application/json', JSON.stringify(status.snapshot()));
      }
      return true;
    default:
      return false;
  }
}
