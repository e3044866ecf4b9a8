// How a live dashboard's connection is told apart from a federation client's at the HTTP upgrade, before any
// Socket.IO namespace is known: its engine.io handshake carries DASHBOARD_HANDSHAKE_PARAM in its query. It is
// admitted under the dashboard's own connection caps (never the federation's), may open the /dashboard namespace
// only (the default namespace refuses it), and authenticates there, where a refusal has a reason to show.
import type { IncomingMessage } from 'node:http';

/** The query parameter of a dashboard's handshake (the page's client sets it: `query: { 'fedtl-dashboard': '1' }`). */
export const DASHBOARD_HANDSHAKE_PARAM = 'fedtl-dashboard';

/** The live dashboard's Socket.IO namespace. */
export const DASHBOARD_NAMESPACE = '/dashboard';

/**
 * Open dashboard connections at most, in total and from one address (browser tabs; a few per operator). Small on
 * purpose: a dashboard's WebSocket is open before its token is checked, so until the namespace refuses it a peer
 * could send one frame of up to the server's maxHttpBufferSize on each.
 */
export const DASHBOARD_CONNECTION_CAPS = { total: 16, perAddress: 4 } as const;

/** Whether `request` (an engine.io handshake) is a dashboard's. */
export function isDashboardHandshake(request: IncomingMessage): boolean {
  return new URL(request.url ?? '/', 'http://coordinator').searchParams.has(DASHBOARD_HANDSHAKE_PARAM);
}
