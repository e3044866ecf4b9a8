// Who is connected and joined. A client id maps to one live link at a time.
import type { JoinRequest, ProtocolError } from '@fedtl/protocol';

/** What a client id may be, as an error message says it. */
export const CLIENT_ID_RULE = '1-64 letters, digits, ".", "_" or "-", not dots alone';

/** Whether `id` is a client id ({@link CLIENT_ID_RULE}). Not dots alone: an id names files (a client's cache directory). */
export function isValidClientId(id: string): boolean {
  return /^[A-Za-z0-9._-]{1,64}$/.test(id) && !/^\.+$/.test(id);
}

/**
 * How the coordinator reaches one client; the Socket.IO glue implements it. Plans and evaluation requests
 * arrive already encoded: every client gets the same bytes, so a round holds one copy of the weights in
 * memory however many clients it sends them to.
 */
export interface ClientLink {
  /** Sends an encoded RoundPlan; resolves once the client acknowledged it (not when it finished training). */
  sendRoundPlan(encodedPlan: Uint8Array): Promise<void>;
  /** Sends an encoded EvaluateRequest; resolves once acknowledged. */
  sendEvaluateRequest(encodedRequest: Uint8Array): Promise<void>;
  /**
   * Sends an encoded secure-aggregation request (KeyDirectory, ShareDelivery, UnmaskRequest); resolves once the
   * client acknowledged it, rejects with the client's refusal or FEDTL_ERR_ACK_TIMEOUT.
   */
  sendSecAgg(event: 'secagg-keys' | 'secagg-share-delivery' | 'secagg-unmask', encoded: Uint8Array): Promise<void>;
  /** Tells the client something went wrong on its side (no answer expected). */
  sendError(error: ProtocolError): void;
  disconnect(): void;
}

export interface RegisteredClient {
  clientId: string;
  link: ClientLink;
  join: JoinRequest;
  joinedAt: number;
  /** The per-client token the client joined with (its public id), so revoking it finds the client; absent for the shared token. */
  tokenId?: string;
}

export class ClientRegistry {
  private readonly clients = new Map<string, RegisteredClient>();

  add(client: RegisteredClient): void {
    this.clients.set(client.clientId, client);
  }

  /** Removes the client only if `link` is still its current link (a rejoin may have replaced it). */
  remove(clientId: string, link: ClientLink): boolean {
    const current = this.clients.get(clientId);
    if (!current || current.link !== link) return false;
    this.clients.delete(clientId);
    return true;
  }

  get(clientId: string): RegisteredClient | undefined {
    return this.clients.get(clientId);
  }

  has(clientId: string): boolean {
    return this.clients.has(clientId);
  }

  /** Joined client ids in a stable (sorted) order, so seeded sampling is reproducible. */
  ids(): string[] {
    return [...this.clients.keys()].sort();
  }

  get size(): number {
    return this.clients.size;
  }
}
