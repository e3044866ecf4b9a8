import { join } from 'node:path';
import { configureLogging } from '@fedtl/util';
import { useTestSandbox, waitFor } from '@fedtl/util/testing';
import { ClientCredentials, type Revocation } from './client-credentials';
import * as tokenStore from './token-store';

// A write that lands between the coordinator's read of the store and the start of its watch: the store is
// revoked from inside the first read, after the file was read and before open() returns. fs.watchFile took its
// first stat only after that, so it saw the revoked file as the baseline, never reported a change, and the
// revoked client stayed admitted.
jest.mock('./token-store', () => {
  const actual = jest.requireActual<typeof import('./token-store')>('./token-store');
  return { ...actual, readTokenStore: jest.fn(actual.readTokenStore) };
});

describe('the watched token store, changed between its read and its watch', () => {
  const sandbox = useTestSandbox();

  beforeAll(() => {
    configureLogging({ level: 'silent' });
  });

  it('announces the revocation', async () => {
    const actual = jest.requireActual<typeof import('./token-store')>('./token-store');
    const path = join(sandbox.dir, 'tokens.json');
    const issued = await actual.issueToken(path, 'org-1', { scrypt: { N: 1024, r: 8, p: 1, keyLength: 32 } });
    jest.mocked(tokenStore.readTokenStore).mockImplementationOnce(async (file) => {
      const contents = await actual.readTokenStore(file);
      await actual.revokeTokens(file, { clientId: 'org-1' });
      return contents;
    });

    const credentials = await ClientCredentials.open(path, { pollIntervalMs: 20, debounceMs: 5 });
    sandbox.defer(() => credentials.close());
    expect(credentials.isActive(issued.listing.tokenId)).toBe(true);
    const [revocation] = await waitFor<[Revocation]>(credentials, 'revoked');
    expect(revocation).toEqual({ tokenId: issued.listing.tokenId, clientId: 'org-1', reason: 'revoked' });
    expect(credentials.isActive(issued.listing.tokenId)).toBe(false);
  });
});
