// Who is connected and joined. A client id maps to one live link at a time.
import type { EvaluateRequest, JoinRequest, ProtocolError, RoundPlan } from '@fedtl/protocol';

/** How the coordinator reaches one client; the Socket.IO glue implements it, tests may too. */
export interface ClientLink {
  /** Resolves once the client acknowledged the plan (not when it finished training). */
  sendRoundPlan(plan: RoundPlan): Promise<void>;
  sendEvaluateRequest(request: EvaluateRequest): Promise<void>;
  sendError(error: ProtocolError): void;
  disconnect(): void;
}

export interface RegisteredClient {
  clientId: string;
  link: ClientLink;
  join: JoinRequest;
  joinedAt: number;
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
