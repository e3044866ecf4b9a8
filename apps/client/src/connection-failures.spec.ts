// What a client says about a connection that failed: a refused handshake, a TLS failure, giving up.
import { giveUpMessage } from './give-up';
import { describeRefusal, handshakeRefusalOf } from './handshake-refusal';
import { describeTlsFailure, tlsFailureOf } from './tls-failure';

function defined<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('expected a value, got undefined');
  return value;
}

/** A connect_error as socket.io-client raises it for a refused HTTP upgrade. */
const refusedHandshake = (status: number) => Object.assign(new Error('websocket error'), { description: { message: `Unexpected server response: ${status}` } });

/** A connect_error whose WebSocket error event holds a Node TLS error (as observed against real coordinators). */
const tlsError = (fields: { code: string; message: string; reason?: string }) =>
  Object.assign(new Error('websocket error'), { type: 'TransportError', description: { message: fields.message, error: Object.assign(new Error(fields.message), fields) } });

describe('handshake refusals', () => {
  it('say what a 401 means, for a wrong token and for a missing one, instead of "websocket error"', () => {
    const refusal = handshakeRefusalOf(refusedHandshake(401));
    expect(refusal).toEqual({ code: 'FEDTL_ERR_UNAUTHORIZED', status: 401 });
    expect(describeRefusal(defined(refusal), true)).toBe('the coordinator refused the token (HTTP 401): it is wrong, or a per-client token that was revoked; check --token-file or FEDTL_TOKEN');
    expect(describeRefusal(defined(refusal), false)).toBe('the coordinator requires a token (HTTP 401) and no token was given; pass --token-file FILE or set FEDTL_TOKEN');
    const middleware = handshakeRefusalOf(Object.assign(new Error('unauthorized: the token is missing or wrong'), { data: { code: 'FEDTL_ERR_UNAUTHORIZED' } }));
    expect(describeRefusal(defined(middleware), true)).toBe('the coordinator refused the token: it is wrong, or a per-client token that was revoked; check --token-file or FEDTL_TOKEN');
  });

  it('say what a 429 and a 503 mean, with their codes', () => {
    expect(handshakeRefusalOf(refusedHandshake(429))).toEqual({ code: 'FEDTL_ERR_RATE_LIMITED', status: 429 });
    expect(handshakeRefusalOf(refusedHandshake(503))).toEqual({ code: 'FEDTL_ERR_TOO_MANY_CONNECTIONS', status: 503 });
    expect(describeRefusal({ code: 'FEDTL_ERR_RATE_LIMITED', status: 429 }, true)).toMatch(/^the coordinator is refusing connections from this address for a while \(HTTP 429\): too many failed authentications/);
    expect(describeRefusal({ code: 'FEDTL_ERR_TOO_MANY_CONNECTIONS', status: 503 }, true)).toBe(
      'the coordinator has no room for another connection (HTTP 503): its --max-connections or --max-connections-per-address is reached',
    );
    expect(handshakeRefusalOf(new Error('xhr poll error'))).toBeUndefined();
    expect(handshakeRefusalOf(refusedHandshake(500))).toBeUndefined();
  });
});

describe('giving up', () => {
  const context = { url: 'http://127.0.0.1:8080', giveUpAfterMs: 1500 };

  it('names the last refusal when the coordinator was there but kept refusing', () => {
    expect(giveUpMessage({ ...context, lastRefusal: { code: 'FEDTL_ERR_RATE_LIMITED', status: 429 } })).toBe(
      'expected to reach the coordinator at http://127.0.0.1:8080 within 1500 ms (--give-up-after-ms), got no session since this client started; the coordinator kept refusing the connection: FEDTL_ERR_RATE_LIMITED (HTTP 429)',
    );
  });

  it('says only unreachable, since the last join, when nothing refused', () => {
    expect(giveUpMessage({ ...context, lastJoinedAt: Date.UTC(2024, 0, 2, 3, 4, 5) })).toBe(
      'expected to reach the coordinator at http://127.0.0.1:8080 within 1500 ms (--give-up-after-ms), got no session since it was last joined, at 2024-01-02T03:04:05.000Z',
    );
  });
});

describe('TLS failures', () => {
  it('recognise a coordinator that requires a client certificate, and say which flags to pass', () => {
    const failure = tlsFailureOf(
      tlsError({
        code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
        message: '807CE535657F0000:error:0A00045C:SSL routines:ssl3_read_bytes:tlsv13 alert certificate required:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1601:SSL alert number 116\n',
        reason: 'tlsv13 alert certificate required',
      }),
    );
    expect(failure).toEqual({ kind: 'client-certificate', code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', message: 'tlsv13 alert certificate required' });
    expect(describeTlsFailure('https://127.0.0.1:8443', defined(failure))).toBe(
      "expected the coordinator at https://127.0.0.1:8443 to accept this client's TLS handshake, got ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED (tlsv13 alert certificate required); the coordinator requires a client certificate: pass --tls-cert FILE --tls-key FILE signed by its CA",
    );
    for (const code of ['ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE', 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE']) {
      expect(tlsFailureOf(tlsError({ code, message: code }))?.kind).toBe('client-certificate');
    }
  });

  it('recognise an https:// URL for a plain coordinator, and say to use http://', () => {
    const message = 'write EPROTO 80BC24A8447F0000:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/openssl/openssl/ssl/record/ssl3_record.c:350:\n';
    const failure = tlsFailureOf(tlsError({ code: 'EPROTO', message }));
    expect(failure?.kind).toBe('not-tls');
    expect(describeTlsFailure('https://127.0.0.1:8080', defined(failure))).toMatch(/^expected a TLS coordinator at https:\/\/127\.0\.0\.1:8080, got EPROTO \(write EPROTO .*wrong version number.*\): it speaks plain HTTP; use http:\/\/ instead of https:\/\/ \(http:\/\/127\.0\.0\.1:8080\)$/s);
    expect(tlsFailureOf(tlsError({ code: 'ERR_SSL_WRONG_VERSION_NUMBER', message: 'wrong version number' }))?.kind).toBe('not-tls');
  });

  it('leave a hang-up (an http:// URL for a TLS coordinator, or a network failure) and other EPROTOs to retrying', () => {
    expect(tlsFailureOf(tlsError({ code: 'ECONNRESET', message: 'socket hang up' }))).toBeUndefined();
    expect(tlsFailureOf(tlsError({ code: 'EPROTO', message: 'write EPROTO something else' }))).toBeUndefined();
    expect(tlsFailureOf(tlsError({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:9' }))).toBeUndefined();
  });

  it('still recognise an untrusted coordinator certificate', () => {
    const failure = tlsFailureOf(tlsError({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', message: 'unable to verify the first certificate' }));
    expect(failure).toEqual({ kind: 'untrusted', code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', message: 'unable to verify the first certificate' });
    expect(describeTlsFailure('https://127.0.0.1:8443', defined(failure))).toMatch(/^expected a certificate this client trusts from https:\/\/127\.0\.0\.1:8443, got UNABLE_TO_VERIFY_LEAF_SIGNATURE \(unable to verify the first certificate\); pass the CA .*--tls-ca FILE/);
  });
});
