// The message a client gives up with when it got no session with the coordinator for --give-up-after-ms.
import type { HandshakeRefusal } from './handshake-refusal';

export interface GiveUpContext {
  url: string;
  giveUpAfterMs: number;
  /** When this client was last welcomed, in ms since the epoch; undefined if it never was. */
  lastJoinedAt?: number;
  /** The refusal the last connection attempt met (429, 503), if it met one rather than silence. */
  lastRefusal?: HandshakeRefusal;
}

/** The FEDTL_ERR_UNREACHABLE message: how long, since when, and whether the coordinator was there but refusing. */
export function giveUpMessage({ url, giveUpAfterMs, lastJoinedAt, lastRefusal }: GiveUpContext): string {
  const since = lastJoinedAt === undefined ? 'since this client started' : `since it was last joined, at ${new Date(lastJoinedAt).toISOString()}`;
  const refusing = lastRefusal
    ? `; the coordinator kept refusing the connection: ${lastRefusal.code}${lastRefusal.status === undefined ? '' : ` (HTTP ${lastRefusal.status})`}`
    : '';
  return `expected to reach the coordinator at ${url} within ${giveUpAfterMs} ms (--give-up-after-ms), got no session ${since}${refusing}`;
}
