// Who may read what of the run's status. The operator token sees everything (every client's id, example count
// and evaluation); a federation-token holder sees run-level aggregates only, plus, when a client certificate
// proves its identity under mutual TLS, its own client's rows. Organisations do not learn about each other.
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { secretsEqual } from '@fedtl/util';
import { certificateIdentities } from '../admission/certificate-identity';
import type { PrivacySpend } from '@fedtl/privacy';
import type { RunStatusSnapshot } from './run-status';

export interface StatusAccessOptions {
  /** The federation token; empty: the coordinator runs without authentication. */
  token: string;
  /** The operator token; empty: nobody gets the full view remotely. */
  operatorToken: string;
  /** Mutual TLS is on: a request's client certificate names the client it may see. */
  mutualTls: boolean;
  /**
   * Per-client tokens guard the federation (a token store exists): the coordinator is not unauthenticated even
   * without a shared token, so the status API then takes the operator token (or the shared one) only.
   */
  clientTokens?: boolean;
}

export type StatusViewer = { view: 'operator' } | { view: 'federation'; ownClientIds: string[] } | { view: 'denied' };

/** The secret a request presents: `Authorization: Bearer <secret>` or `?token=<secret>` (the dashboard page's). */
function presentedSecret(request: IncomingMessage, url: URL): string {
  const header = request.headers.authorization;
  return header?.startsWith('Bearer ') ? header.slice('Bearer '.length) : (url.searchParams.get('token') ?? '');
}

function isLoopback(address: string | undefined): boolean {
  return address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1';
}

/**
 * Decides a request's view. Without any token configured (a loopback demo, or --allow-unauthenticated) a
 * request from this machine gets the operator view and any other the federation view; with per-client tokens and
 * no shared one, any other is denied unless it presents the operator token.
 */
export function statusViewer(request: IncomingMessage, url: URL, options: StatusAccessOptions): StatusViewer {
  return viewerOf(presentedSecret(request, url), request.socket, options);
}

/**
 * The same rules for a secret presented otherwise (the live dashboard's Socket.IO auth), on the connection
 * `socket` it came over (its remote address and, under mutual TLS, its client certificate).
 */
export function viewerOf(given: string, socket: Socket, options: StatusAccessOptions): StatusViewer {
  const own = () => (options.mutualTls ? certificateIdentities(socket) : []);
  if (options.operatorToken && secretsEqual(given, options.operatorToken)) return { view: 'operator' };
  if (options.token) return secretsEqual(given, options.token) ? { view: 'federation', ownClientIds: own() } : { view: 'denied' };
  if (!options.operatorToken && isLoopback(socket.remoteAddress)) return { view: 'operator' };
  if (options.clientTokens) return { view: 'denied' };
  return { view: 'federation', ownClientIds: own() };
}

/** Why `viewerOf` denied: what to present instead, for a 401 body or a connect_error. */
export function deniedReason(options: StatusAccessOptions): string {
  return `unauthorized: expected the operator token${options.token ? ' or the federation token' : ''}`;
}

/** A snapshot as `viewer` may see it (not for 'denied'). */
export function viewOf(snapshot: RunStatusSnapshot, viewer: Exclude<StatusViewer, { view: 'denied' }>): RunStatusSnapshot {
  return viewer.view === 'operator' ? snapshot : federationView(snapshot, viewer.ownClientIds);
}

/**
 * The federation view of a snapshot: counts instead of client ids, and only the rows (membership, round
 * participation, failures, evaluations) of `ownClientIds`.
 */
export function federationView(status: RunStatusSnapshot, ownClientIds: readonly string[]): RunStatusSnapshot {
  const own = (clientId: string) => ownClientIds.includes(clientId);
  return {
    ...status,
    view: 'federation',
    clients: status.clients.filter((c) => own(c.clientId)),
    refusedJoins: status.refusedJoins.filter((r) => r.clientId !== undefined && own(r.clientId)),
    rounds: status.rounds.map((r) => ({
      ...r,
      selected: r.selected.filter(own),
      accepted: r.accepted.filter(own),
      failures: r.failures.filter((f) => own(f.clientId)),
      clients: Object.fromEntries(Object.entries(r.clients).filter(([clientId]) => own(clientId))),
      ...(r.privacy ? { privacy: { events: r.privacy.events.filter((e) => e.subject === undefined || own(e.subject)), spent: r.privacy.spent.map(hideOtherSubject) } } : {}),
    })),
    ...(status.privacy ? { privacy: { ...status.privacy, spent: status.privacy.spent.map(hideOtherSubject) } } : {}),
  };
  /** The run's ε stays; whose data it was measured on is named only to that client. */
  function hideOtherSubject(spend: PrivacySpend): PrivacySpend {
    if (spend.subject === undefined || own(spend.subject)) return spend;
    return { unit: spend.unit, epsilon: spend.epsilon, delta: spend.delta, events: spend.events };
  }
}
