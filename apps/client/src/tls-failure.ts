// Which connection errors are TLS problems that retrying cannot fix, and what the user should change:
//   untrusted          the coordinator's certificate is not trusted or does not match the URL: --tls-ca, the host
//   client-certificate the coordinator requires a client certificate (mutual TLS) and got none, or one it rejects
//   not-tls            an https:// URL for a coordinator that does not speak TLS: use http://
// An http:// URL for a TLS coordinator is not among them: the coordinator only hangs up (ECONNRESET, "socket hang
// up"), which a network failure also does, so that client keeps retrying. So does a client whose certificate
// the coordinator rejects under TLS 1.3 when the rejection arrives as a hang-up rather than as an alert.

export type TlsFailureKind = 'untrusted' | 'client-certificate' | 'not-tls';

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
 * TLS alerts a server sends when it wants a client certificate and got none, or cannot verify the one it got
 * (Node names them ERR_SSL_<alert>). A coordinator started with --tls-client-ca and a client without
 * --tls-cert meet ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED.
 */
export const TLS_CLIENT_CERTIFICATE_ALERT_CODES: ReadonlySet<string> = new Set([
  'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
  'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE',
  'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN',
  'ERR_SSL_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE',
  'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
  'ERR_SSL_TLSV1_ALERT_ACCESS_DENIED',
]);

export interface TlsFailure {
  kind: TlsFailureKind;
  code: string;
  message: string;
}

function kindOf(code: string, message: string): TlsFailureKind | undefined {
  if (TLS_CERTIFICATE_ERROR_CODES.has(code)) return 'untrusted';
  if (TLS_CLIENT_CERTIFICATE_ALERT_CODES.has(code)) return 'client-certificate';
  // A plain-HTTP server's answer read as a TLS record. Node 20 reports it as EPROTO, with OpenSSL's reason
  // in the message; other versions as ERR_SSL_WRONG_VERSION_NUMBER.
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || (code === 'EPROTO' && /wrong version number/i.test(message))) return 'not-tls';
  return undefined;
}

/**
 * The TLS failure inside a Socket.IO `connect_error`, if any. The TLS error sits a few levels down:
 * engine.io's TransportError keeps the WebSocket's error event in `description`, which holds the Node error in
 * `error` (or `cause`). Returns its kind, code and message (OpenSSL's short reason when it gives one), or
 * undefined when no TLS failure is found.
 */
export function tlsFailureOf(err: unknown): TlsFailure | undefined {
  const seen = new Set<unknown>();
  const queue: unknown[] = [err];
  while (queue.length > 0) {
    const value = queue.shift();
    if (typeof value !== 'object' || value === null || seen.has(value)) continue;
    seen.add(value);
    const { code, message, reason } = value as { code?: unknown; message?: unknown; reason?: unknown };
    if (typeof code === 'string') {
      const text = typeof message === 'string' ? message : '';
      const kind = kindOf(code, text);
      if (kind) return { kind, code, message: typeof reason === 'string' && reason ? reason : text.trim() || code };
    }
    const nested = value as { description?: unknown; error?: unknown; cause?: unknown; context?: unknown };
    queue.push(nested.description, nested.error, nested.cause, nested.context);
  }
  return undefined;
}

/** The FEDTL_ERR_TLS message for a failure met connecting to `url`: what went wrong, and what to pass instead. */
export function describeTlsFailure(url: string, failure: TlsFailure): string {
  const got = `got ${failure.code} (${failure.message})`;
  switch (failure.kind) {
    case 'untrusted':
      return `expected a certificate this client trusts from ${url}, ${got}; pass the CA that signed the coordinator's certificate with --tls-ca FILE, and check that the URL's host name is one the certificate names`;
    case 'client-certificate':
      return `expected the coordinator at ${url} to accept this client's TLS handshake, ${got}; the coordinator requires a client certificate: pass --tls-cert FILE --tls-key FILE signed by its CA`;
    case 'not-tls': {
      const plain = new URL(url);
      plain.protocol = plain.protocol === 'wss:' ? 'ws:' : 'http:';
      return `expected a TLS coordinator at ${url}, ${got}: it speaks plain HTTP; use ${plain.protocol}// instead of ${new URL(url).protocol}// (${plain.origin})`;
    }
  }
}
