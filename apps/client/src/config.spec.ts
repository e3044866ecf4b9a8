import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useTestSandbox } from '@fedtl/util/testing';
import { parseClientConfig } from './config';
import { connectErrorCode } from './handshake-refusal';

describe('client configuration: the token', () => {
  const sandbox = useTestSandbox();
  const base = ['--coordinator', 'http://127.0.0.1:8080', '--client-id', 'org-1', '--features', 'f.json'];

  it('reads the token from a file, and warns that --token on the command line is visible in the process list', () => {
    const file = join(sandbox.dir, 'token');
    writeFileSync(file, 'a1b2c3d4e5f60718293a\n');
    expect(parseClientConfig([...base, '--token-file', file])).toMatchObject({ token: 'a1b2c3d4e5f60718293a', warnings: [] });
    expect(parseClientConfig(base, { FEDTL_TOKEN: 'from-env-0123456789' })).toMatchObject({ token: 'from-env-0123456789', warnings: [] });
    expect(parseClientConfig([...base, '--token', 'a1b2c3d4e5f60718293a'])).toMatchObject({
      warnings: ['--token on the command line is visible to every user of this machine (ps); use --token-file FILE or FEDTL_TOKEN'],
    });
    expect(() => parseClientConfig([...base, '--token', 'x', '--token-file', file])).toThrow('--token/--token-file: expected one of them, got "both"');
  });
});

describe('connectErrorCode', () => {
  it('maps a refused handshake\'s status and a middleware refusal to catalogue codes', () => {
    const handshake = (status: number) => Object.assign(new Error('websocket error'), { description: { message: `Unexpected server response: ${status}` } });
    expect(connectErrorCode(handshake(401))).toBe('FEDTL_ERR_UNAUTHORIZED');
    expect(connectErrorCode(handshake(429))).toBe('FEDTL_ERR_RATE_LIMITED');
    expect(connectErrorCode(handshake(503))).toBe('FEDTL_ERR_TOO_MANY_CONNECTIONS');
    expect(connectErrorCode(Object.assign(new Error('unauthorized'), { data: { code: 'FEDTL_ERR_UNAUTHORIZED' } }))).toBe('FEDTL_ERR_UNAUTHORIZED');
    expect(connectErrorCode(new Error('xhr poll error'))).toBeUndefined();
  });
});
