import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { configureLogging } from '@fedtl/util';
import { useTestSandbox, waitFor } from '@fedtl/util/testing';
import { ClientCredentials, type Revocation } from './client-credentials';
import { issueToken, revokeTokens } from './token-store';

describe('the coordinator\'s watched token store', () => {
  const sandbox = useTestSandbox();

  beforeAll(() => {
    configureLogging({ level: 'silent' });
  });

  const open = async (path: string) => {
    const credentials = await ClientCredentials.open(path, { pollIntervalMs: 50, debounceMs: 20 });
    sandbox.defer(() => credentials.close());
    return credentials;
  };

  it('refuses to start on a store that does not exist', async () => {
    const path = join(sandbox.dir, 'tokens.json');
    await expect(ClientCredentials.open(path)).rejects.toThrow(`--token-store: expected a token store, got ${path}, which does not exist`);
  });

  it('announces a revocation made while it runs, and no longer admits the token', async () => {
    const path = join(sandbox.dir, 'tokens.json');
    const kept = await issueToken(path, 'org-1');
    const revoked = await issueToken(path, 'org-2');
    const credentials = await open(path);
    expect(await credentials.check(revoked.token)).toMatchObject({ status: 'valid', clientId: 'org-2' });

    const announced = waitFor<[Revocation]>(credentials, 'revoked');
    await revokeTokens(path, { clientId: 'org-2' });
    expect((await announced)[0]).toEqual({ tokenId: revoked.listing.tokenId, clientId: 'org-2', reason: 'revoked' });
    expect(credentials.isActive(revoked.listing.tokenId)).toBe(false);
    expect(await credentials.check(revoked.token)).toMatchObject({ status: 'revoked', tokenId: revoked.listing.tokenId });
    expect(await credentials.check(kept.token)).toMatchObject({ status: 'valid', clientId: 'org-1' });
  });

  it('answers many verifications at once (a few run at a time, the rest wait their turn)', async () => {
    const path = join(sandbox.dir, 'tokens.json');
    const { token } = await issueToken(path, 'org-1');
    const credentials = await open(path);
    const wrong = `${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`;
    const presented = [wrong, wrong, token, wrong, wrong, wrong, token];
    const results = await Promise.all(presented.map((t) => credentials.check(t)));
    expect(results.map((r) => r.status)).toEqual(['invalid', 'invalid', 'valid', 'invalid', 'invalid', 'invalid', 'valid']);
  });

  it('takes up a token issued while it runs', async () => {
    const path = join(sandbox.dir, 'tokens.json');
    await issueToken(path, 'org-1');
    const credentials = await open(path);
    const reloaded = waitFor(credentials, 'reloaded');
    const late = await issueToken(path, 'org-3');
    await reloaded;
    expect(await credentials.check(late.token)).toMatchObject({ status: 'valid', clientId: 'org-3' });
  });

  it('keeps the last good copy when the file stops parsing, and a token removed from it counts as revoked', async () => {
    const path = join(sandbox.dir, 'tokens.json');
    const { token, listing } = await issueToken(path, 'org-1');
    const credentials = await open(path);

    const failed = waitFor<[Error]>(credentials, 'reloadFailed');
    await writeFile(path, '{ "format": "fedtl-tokens/1", "stor');
    expect((await failed)[0].message).toContain(`${path}: expected a JSON token store`);
    expect(await credentials.check(token)).toMatchObject({ status: 'valid', clientId: 'org-1' });

    const announced = waitFor<[Revocation]>(credentials, 'revoked');
    await writeFile(path, JSON.stringify({ format: 'fedtl-tokens/1', storeId: 'AAAAAAAAAAAAAAAAAAAAAA', tokens: [] }));
    expect((await announced)[0]).toEqual({ tokenId: listing.tokenId, clientId: 'org-1', reason: 'removed' });
    expect(await credentials.check(token)).toEqual({ status: 'invalid' });
  });
});
