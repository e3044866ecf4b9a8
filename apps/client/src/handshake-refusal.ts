// A coordinator refuses a handshake before any WebSocket opens, with an HTTP status; the connection error
// then only carries "Unexpected server response: <status>". This maps it back to the catalogue code, and says
// what the refusal means in words a user can act on (the connection error's own message, "websocket error",
// says nothing).
import type { ErrorCode } from '@fedtl/util';

const CODE_OF_STATUS: Record<string, ErrorCode> = {
  '401': 'FEDTL_ERR_UNAUTHORIZED',
  '429': 'FEDTL_ERR_RATE_LIMITED',
  '503': 'FEDTL_ERR_TOO_MANY_CONNECTIONS',
};

/** A refused handshake: its catalogue code, and the HTTP status when the refusal came at the HTTP upgrade. */
export interface HandshakeRefusal {
  code: string;
  status?: number;
}

/** Refusals that may pass by themselves: the client retries them with backoff until --give-up-after-ms. */
export const RETRYABLE_REFUSAL_CODES: ReadonlySet<string> = new Set(['FEDTL_ERR_RATE_LIMITED', 'FEDTL_ERR_TOO_MANY_CONNECTIONS']);

/**
 * The refusal inside a connection error: from the Socket.IO middleware (`err.data.code`) or from the status of
 * a refused handshake; undefined for other failures (unreachable, TLS…).
 */
export function handshakeRefusalOf(err: Error): HandshakeRefusal | undefined {
  const data = (err as Error & { data?: { code?: string } }).data;
  if (data?.code) return { code: data.code };
  const description = (err as Error & { description?: { message?: unknown } }).description;
  const status = typeof description?.message === 'string' ? /Unexpected server response: (\d{3})/.exec(description.message)?.[1] : undefined;
  const code = status ? CODE_OF_STATUS[status] : undefined;
  return code ? { code, status: Number(status) } : undefined;
}

/** The catalogue code of a connection error (see handshakeRefusalOf); undefined for other failures. */
export function connectErrorCode(err: Error): string | undefined {
  return handshakeRefusalOf(err)?.code;
}

/**
 * What a refusal means, for the user: what the coordinator refused and what to do about it. `hasToken` says
 * whether this client sent a token at all (a missing one and a wrong one call for different fixes).
 */
export function describeRefusal(refusal: HandshakeRefusal, hasToken: boolean): string {
  const http = refusal.status === undefined ? '' : ` (HTTP ${refusal.status})`;
  switch (refusal.code) {
    case 'FEDTL_ERR_UNAUTHORIZED':
      return hasToken
        ? `the coordinator refused the token${http}: it is wrong, or a per-client token that was revoked; check --token-file or FEDTL_TOKEN`
        : `the coordinator requires a token${http} and no token was given; pass --token-file FILE or set FEDTL_TOKEN`;
    case 'FEDTL_ERR_RATE_LIMITED':
      return `the coordinator is refusing connections from this address for a while${http}: too many failed authentications from it (a wrong token, here or in another client on this machine)`;
    case 'FEDTL_ERR_TOO_MANY_CONNECTIONS':
      return `the coordinator has no room for another connection${http}: its --max-connections or --max-connections-per-address is reached`;
    default:
      return `the coordinator refused the connection${http}: ${refusal.code}`;
  }
}
