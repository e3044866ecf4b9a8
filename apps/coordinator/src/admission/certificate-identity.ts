// Under mutual TLS the client certificate, not the Join message, says who a client is: a Join must claim an
// id the certificate names, so org-1's certificate cannot join as org-2.
import type { TLSSocket } from 'node:tls';
import { FedtlError } from '@fedtl/util';

/**
 * The client ids a peer certificate vouches for: its subject CN and every `DNS:` subjectAltName entry.
 * Empty when the connection carries no certificate (plain TCP, or TLS without client certificates).
 */
export function certificateIdentities(socket: unknown): string[] {
  const tls = socket as Partial<TLSSocket>;
  if (typeof tls.getPeerCertificate !== 'function') return [];
  const cert = tls.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0) return [];
  const names: string[] = [];
  const cn = cert.subject?.CN;
  if (typeof cn === 'string') names.push(cn);
  else if (Array.isArray(cn)) names.push(...(cn as string[]));
  for (const entry of (cert.subjectaltname ?? '').split(',')) {
    const [kind, value] = entry.trim().split(/:(.*)/s);
    if (kind === 'DNS' && value) names.push(value);
  }
  return names;
}

/**
 * Throws FEDTL_ERR_UNAUTHORIZED unless `clientId` is one of the names the certificate vouches for.
 * @param clientId the id the Join claims
 * @param identities from {@link certificateIdentities}
 */
export function checkCertificateIdentity(clientId: string, identities: readonly string[]): void {
  if (identities.includes(clientId)) return;
  const named = identities.length === 0 ? 'no name' : identities.map((n) => JSON.stringify(n)).join(', ');
  throw new FedtlError(
    'FEDTL_ERR_UNAUTHORIZED',
    `expected the client certificate to name the client id "${clientId}" (subject CN or a DNS subjectAltName), got ${named}`,
  );
}
