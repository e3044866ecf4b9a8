import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { useTestSandbox } from '@fedtl/util/testing';
import { issueToken, listTokens, parseTokenText, readTokenStore, revokeTokens, verifyToken, type TokenStoreContents } from './token-store';

describe('token store', () => {
  const sandbox = useTestSandbox();
  const storeIn = (name = 'out') => join(sandbox.dir, name, 'tokens.json');
  const read = async (path: string): Promise<TokenStoreContents> => {
    const contents = await readTokenStore(path);
    if (!contents) throw new Error(`${path} is missing`);
    return contents;
  };

  it('issues fedtl_<id>_<secret>, stores its scrypt hash and never the secret, in a file of mode 0600', async () => {
    const path = storeIn();
    const { token, listing } = await issueToken(path, 'org-1', { now: new Date('2026-01-02T03:04:05Z') });
    const parsed = parseTokenText(token);
    expect(parsed?.tokenId).toBe(listing.tokenId);
    expect(Buffer.from(parsed?.secret ?? '', 'base64url')).toHaveLength(32);
    expect(listing).toEqual({ tokenId: parsed?.tokenId, clientId: 'org-1', createdAt: '2026-01-02T03:04:05.000Z', revokedAt: null });

    const text = await readFile(path, 'utf8');
    expect(text).not.toContain(parsed?.secret);
    const contents = await read(path);
    expect(contents.tokens).toEqual([
      { ...listing, scrypt: { N: 16_384, r: 8, p: 1, keyLength: 32 }, salt: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/), hash: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) },
    ]);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await verifyToken(contents, token)).toEqual({ status: 'valid', tokenId: listing.tokenId, clientId: 'org-1' });
    expect(listTokens(contents)).toEqual([listing]);
  });

  it('refuses a wrong secret, an unknown token id and anything that is not a per-client token alike', async () => {
    const path = storeIn();
    const { token } = await issueToken(path, 'org-1');
    const contents = await read(path);
    const { tokenId, secret } = parseTokenText(token) ?? { tokenId: '', secret: '' };
    const wrongSecret = `fedtl_${tokenId}_${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`;
    for (const presented of [wrongSecret, `fedtl_0123456789abcdef_${secret}`, '9d41c07be35f2a86e1b4', '', `${token}x`]) {
      expect(await verifyToken(contents, presented)).toEqual({ status: 'invalid' });
    }
  });

  it('binds a token to its store and its client: a record edited to another client, or copied into another store, does not verify', async () => {
    const path = storeIn();
    const { token } = await issueToken(path, 'org-1');
    const contents = await read(path);
    const edited = { ...contents, tokens: contents.tokens.map((t) => ({ ...t, clientId: 'org-2' })) };
    expect(await verifyToken(edited, token)).toEqual({ status: 'invalid' });

    const other = storeIn('other-run');
    await issueToken(other, 'org-9');
    const otherContents = await read(other);
    expect(await verifyToken(otherContents, token)).toEqual({ status: 'invalid' });
    expect(await verifyToken({ ...otherContents, tokens: [...otherContents.tokens, ...contents.tokens] }, token)).toEqual({ status: 'invalid' });
  });

  it('revokes by token id or by client, keeps revoked tokens listed, and says so to a holder of the secret', async () => {
    const path = storeIn();
    const first = await issueToken(path, 'org-1');
    const second = await issueToken(path, 'org-1');
    const other = await issueToken(path, 'org-2');
    const at = new Date('2026-02-03T04:05:06Z');
    expect(await revokeTokens(path, { tokenId: first.listing.tokenId }, at)).toEqual({ revoked: [{ ...first.listing, revokedAt: at.toISOString() }], alreadyRevoked: [] });
    expect(await verifyToken(await read(path), first.token)).toEqual({ status: 'revoked', tokenId: first.listing.tokenId, clientId: 'org-1', revokedAt: at.toISOString() });
    expect(await verifyToken(await read(path), second.token)).toMatchObject({ status: 'valid' });

    const result = await revokeTokens(path, { clientId: 'org-1' }, at);
    expect(result.revoked.map((t) => t.tokenId)).toEqual([second.listing.tokenId]);
    expect(result.alreadyRevoked.map((t) => t.tokenId)).toEqual([first.listing.tokenId]);
    expect(listTokens(await read(path)).map((t) => [t.clientId, t.revokedAt])).toEqual([
      ['org-1', at.toISOString()],
      ['org-1', at.toISOString()],
      ['org-2', null],
    ]);
    expect(await verifyToken(await read(path), other.token)).toMatchObject({ status: 'valid', clientId: 'org-2' });

    await expect(revokeTokens(path, { tokenId: 'ffffffffffffffff' })).rejects.toThrow(`--token-id: expected a token id with tokens in ${path}, got "ffffffffffffffff", which has none`);
    await expect(revokeTokens(path, { clientId: 'org-3' })).rejects.toThrow('--client: expected a client with tokens in');
    await expect(revokeTokens(storeIn('nowhere'), { clientId: 'org-1' })).rejects.toThrow('which does not exist');
  });

  it('rewrites the store whole with mode 0600 whatever the old file had, and loses no token to concurrent issues', async () => {
    const path = storeIn();
    await issueToken(path, 'org-0');
    await chmod(path, 0o644);
    const issued = await Promise.all(['org-1', 'org-2', 'org-3', 'org-4'].map((id) => issueToken(path, id)));
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const contents = await read(path);
    expect(contents.tokens.map((t) => t.clientId).sort()).toEqual(['org-0', 'org-1', 'org-2', 'org-3', 'org-4']);
    for (const { token } of issued) expect((await verifyToken(contents, token)).status).toBe('valid');
  });

  it('refuses a client id that is not one, and a tampered or foreign file, naming the file and the field', async () => {
    const path = storeIn();
    await expect(issueToken(path, '..')).rejects.toThrow('--client: expected a client id of 1-64 letters, digits, ".", "_" or "-", not dots alone, got ".."');
    await issueToken(path, 'org-1');
    const good = await read(path);
    const write = (value: unknown) => writeFile(path, typeof value === 'string' ? value : JSON.stringify(value));

    await write('{"format": "fedtl-tokens/1", ');
    await expect(readTokenStore(path)).rejects.toThrow(`${path}: expected a JSON token store, got text that does not parse`);
    await write({ ...good, format: 'other/1' });
    await expect(readTokenStore(path)).rejects.toThrow(`${path}: format: expected "fedtl-tokens/1", got "other/1"`);
    await write({ ...good, tokens: [...good.tokens, good.tokens[0]] });
    await expect(readTokenStore(path)).rejects.toThrow('tokens[1].tokenId: expected a token id not used before in the store');
    await write({ ...good, tokens: [{ ...good.tokens[0], scrypt: { ...good.tokens[0].scrypt, N: 2 ** 30 } }] });
    await expect(readTokenStore(path)).rejects.toThrow('tokens[0].scrypt: expected N a power of two in [2^10, 2^20], got 1073741824');
    await write({ ...good, tokens: [{ ...good.tokens[0], hash: good.tokens[0].hash.slice(0, 20) }] });
    await expect(readTokenStore(path)).rejects.toThrow('tokens[0].hash: expected base64url of scrypt.keyLength (32) bytes');
    await write({ ...good, tokens: [{ ...good.tokens[0], clientId: '../x' }] });
    await expect(readTokenStore(path)).rejects.toThrow('tokens[0].clientId: expected a client id of');
    expect(await readTokenStore(storeIn('nowhere'))).toBeUndefined();
  });
});
