// Which connection errors are TLS certificate problems: retrying cannot fix them, a --tls-ca (or a URL whose host
// the certificate names) can.

/** OpenSSL/Node codes of a certificate the client does not trust or that does not match the URL. */
export const TLS_CERTIFICATE_ERROR_CODES: ReadonlySet<string> = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REVOKED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * The certificate error inside a Socket.IO `connect_error`, if any. The TLS error sits a few levels down:
 * engine.io's TransportError keeps the WebSocket's error event in `description`, which holds the Node error in
 * `error` (or `cause`). Returns its code and message, or undefined when no certificate error is found.
 */
export function tlsFailureOf(err: unknown): { code: string; message: string } | undefined {
  const seen = new Set<unknown>();
  const queue: unknown[] = [err];
  while (queue.length > 0) {
    const value = queue.shift();
    if (typeof value !== 'object' || value === null || seen.has(value)) continue;
    seen.add(value);
    const { code, message } = value as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && TLS_CERTIFICATE_ERROR_CODES.has(code)) {
      return { code, message: typeof message === 'string' ? message : code };
    }
    const nested = value as { description?: unknown; error?: unknown; cause?: unknown; context?: unknown };
    queue.push(nested.description, nested.error, nested.cause, nested.context);
  }
  return undefined;
}
