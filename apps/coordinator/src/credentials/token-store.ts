// Per-client tokens, kept next to the run in `<out-dir>/tokens.json`. Each token is `fedtl_<tokenId>_<secret>`:
// the token id is public (listed, logged, named in refusals) and finds the record; the secret (32 random bytes)
// is shown once at issue and never stored. The file holds only an scrypt hash of it, with a per-token salt and
// the scrypt parameters, so reading the file gives nobody a token. The hash also covers the store's id, the token
// id and the client id: a record copied into another out-dir's store, or edited to name another client, no
// longer verifies. Tokens are bound to the store (one per out-dir) rather than to a run id, because they are
// issued before the first start, when the run has no id yet; `--fresh` starts a new run in the same out-dir and
// keeps them.
//
// File shape (`format` fedtl-tokens/1):
//   { "format": "fedtl-tokens/1", "storeId": "<base64url, 16 random bytes>",
//     "tokens": [ { "tokenId": "<16 hex>", "clientId": "org-1", "createdAt": "<ISO 8601>", "revokedAt": null | "<ISO 8601>",
//                   "scrypt": { "N": 16384, "r": 8, "p": 1, "keyLength": 32 }, "salt": "<base64url>", "hash": "<base64url>" } ] }
// scrypt's input is `<storeId>\n<tokenId>\n<clientId>\n<secret>`.
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as lockfile from 'proper-lockfile';
import { FedtlError } from '@fedtl/util';
import writeFileAtomic from 'write-file-atomic';
import { CLIENT_ID_RULE, isValidClientId } from '../client-registry';

/** The store's name inside the coordinator's --out-dir. */
export const TOKEN_STORE_FILE = 'tokens.json';
export const TOKEN_STORE_FORMAT = 'fedtl-tokens/1';

/** scrypt's cost parameters (RFC 7914): N the CPU/memory cost (a power of two), r the block size, p the parallelism. */
export interface ScryptParams {
  N: number;
  r: number;
  p: number;
  keyLength: number;
}

/**
 * 16 MiB and some 50 ms per verification. The secrets are 256 random bits, so this is not what keeps a leaked
 * file from being brute-forced (nothing could); it keeps the file holding nothing replayable at a cost paid once
 * per connection. Recorded per token, so a later issue can raise it without invalidating older tokens.
 */
export const DEFAULT_SCRYPT: ScryptParams = { N: 16_384, r: 8, p: 1, keyLength: 32 };

/** The most memory one verification may take (scrypt needs 128·N·r bytes). */
const SCRYPT_MAX_MEMORY = 64 * 2 ** 20;

/** One token's record as the file holds it. */
export interface StoredToken {
  tokenId: string;
  clientId: string;
  createdAt: string;
  revokedAt: string | null;
  scrypt: ScryptParams;
  salt: string;
  hash: string;
}

export interface TokenStoreContents {
  format: typeof TOKEN_STORE_FORMAT;
  /** Random, made with the file: what binds its tokens to this out-dir. */
  storeId: string;
  tokens: StoredToken[];
}

/** What may be shown of a token: never its hash or salt (and the secret is nowhere). */
export type TokenListing = Pick<StoredToken, 'tokenId' | 'clientId' | 'createdAt' | 'revokedAt'>;

/** The outcome of checking a presented token against a store. */
export type TokenCheck =
  | { status: 'valid'; tokenId: string; clientId: string }
  /** The secret is right but the token was revoked (said only to a holder of the secret). */
  | { status: 'revoked'; tokenId: string; clientId: string; revokedAt: string }
  /** Not a per-client token, not one of this store, or a wrong secret: deliberately not told apart. */
  | { status: 'invalid' };

const TOKEN_PATTERN = /^fedtl_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
const TOKEN_ID_PATTERN = /^[0-9a-f]{16}$/;
const BASE64URL_PATTERN = /^[A-Za-z0-9_-]+$/;

/** `<outDir>/tokens.json`. */
export function tokenStorePath(outDir: string): string {
  return join(outDir, TOKEN_STORE_FILE);
}

/** Splits `fedtl_<tokenId>_<secret>`; undefined for anything else (the shared federation token, for one). */
export function parseTokenText(token: string): { tokenId: string; secret: string } | undefined {
  const match = TOKEN_PATTERN.exec(token);
  return match ? { tokenId: match[1], secret: match[2] } : undefined;
}

/**
 * Reads and validates a store.
 * @returns the contents, or undefined when the file does not exist
 * @throws FEDTL_ERR_BAD_CONFIG naming the file and what is wrong in it (unreadable, not JSON, another shape)
 */
export async function readTokenStore(path: string): Promise<TokenStoreContents | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `${path}: expected a readable token store, got ${(err as Error).message}`);
  }
  return parseTokenStore(text, path);
}

/**
 * Validates a store's text (every field, and token ids unique).
 * @throws FEDTL_ERR_BAD_CONFIG `<path>: <field>: expected …, got …`
 */
export function parseTokenStore(text: string, path: string): TokenStoreContents {
  const fail = (what: string, expected: string, got: unknown): never => {
    throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `${path}: ${what}: expected ${expected}, got ${JSON.stringify(got)?.slice(0, 80)}`);
  };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `${path}: expected a JSON token store, got text that does not parse (${(err as Error).message})`);
  }
  const root = json as Partial<TokenStoreContents> | null;
  if (typeof root !== 'object' || root === null || Array.isArray(root)) fail('the top level', 'a JSON object', json);
  if (root?.format !== TOKEN_STORE_FORMAT) fail('format', `"${TOKEN_STORE_FORMAT}"`, root?.format);
  const { storeId, tokens } = root as TokenStoreContents;
  if (typeof storeId !== 'string' || !BASE64URL_PATTERN.test(storeId) || storeId.length < 16) fail('storeId', 'base64url of at least 16 characters', storeId);
  if (!Array.isArray(tokens)) fail('tokens', 'a list', tokens);
  const seen = new Set<string>();
  tokens.forEach((token, i) => {
    const at = `tokens[${i}]`;
    if (typeof token !== 'object' || token === null) fail(at, 'an object', token);
    if (typeof token.tokenId !== 'string' || !TOKEN_ID_PATTERN.test(token.tokenId)) fail(`${at}.tokenId`, '16 hex digits', token.tokenId);
    if (seen.has(token.tokenId)) fail(`${at}.tokenId`, 'a token id not used before in the store', token.tokenId);
    seen.add(token.tokenId);
    if (typeof token.clientId !== 'string' || !isValidClientId(token.clientId)) fail(`${at}.clientId`, `a client id of ${CLIENT_ID_RULE}`, token.clientId);
    if (typeof token.createdAt !== 'string' || Number.isNaN(Date.parse(token.createdAt))) fail(`${at}.createdAt`, 'an ISO 8601 time', token.createdAt);
    if (token.revokedAt !== null && (typeof token.revokedAt !== 'string' || Number.isNaN(Date.parse(token.revokedAt)))) {
      fail(`${at}.revokedAt`, 'null or an ISO 8601 time', token.revokedAt);
    }
    checkScryptParams(token.scrypt, (expected, got) => fail(`${at}.scrypt`, expected, got));
    if (typeof token.salt !== 'string' || !BASE64URL_PATTERN.test(token.salt) || Buffer.from(token.salt, 'base64url').length < 16) fail(`${at}.salt`, 'base64url of at least 16 bytes', token.salt);
    if (typeof token.hash !== 'string' || !BASE64URL_PATTERN.test(token.hash) || Buffer.from(token.hash, 'base64url').length !== token.scrypt.keyLength) {
      fail(`${at}.hash`, `base64url of scrypt.keyLength (${token.scrypt.keyLength}) bytes`, token.hash);
    }
  });
  return { format: TOKEN_STORE_FORMAT, storeId, tokens };
}

/**
 * Bounds on the parameters a file may ask for: a tampered file must not make every verification take
 * gigabytes or minutes.
 */
function checkScryptParams(params: unknown, fail: (expected: string, got: unknown) => never): void {
  const p = params as Partial<ScryptParams> | null;
  if (typeof p !== 'object' || p === null) fail('an object { N, r, p, keyLength }', params);
  const isInt = (v: unknown, min: number, max: number) => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
  if (!isInt(p?.N, 1024, 1_048_576) || ((p?.N as number) & ((p?.N as number) - 1)) !== 0) fail('N a power of two in [2^10, 2^20]', p?.N);
  if (!isInt(p?.r, 1, 32)) fail('r in [1, 32]', p?.r);
  if (!isInt(p?.p, 1, 16)) fail('p in [1, 16]', p?.p);
  if (!isInt(p?.keyLength, 16, 64)) fail('keyLength in [16, 64]', p?.keyLength);
  if (128 * (p?.N as number) * (p?.r as number) > SCRYPT_MAX_MEMORY) fail(`N and r whose memory (128·N·r) is at most ${SCRYPT_MAX_MEMORY / 2 ** 20} MiB`, { N: p?.N, r: p?.r });
}

/**
 * Writes the store whole or not at all (write-file-atomic: a temporary file of mode 0600 next to it, synced, then
 * renamed over it). A reader (the coordinator's watch) sees the old contents or the new, never half of them.
 */
export async function writeTokenStore(path: string, contents: TokenStoreContents): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(contents, null, 2)}\n`, { mode: 0o600 });
}

/**
 * Reads, changes and writes the store under a lock (`<path>.lock`), so two operators' commands cannot lose
 * each other's changes. A missing store starts empty with a new store id (its directory is made if needed).
 */
async function updateTokenStore<T>(path: string, change: (contents: TokenStoreContents) => T | Promise<T>): Promise<T> {
  await mkdir(dirname(path), { recursive: true });
  const release = await lockfile.lock(path, { realpath: false, stale: 10_000, retries: { retries: 20, minTimeout: 50, maxTimeout: 500 } });
  try {
    const contents = (await readTokenStore(path)) ?? { format: TOKEN_STORE_FORMAT, storeId: randomBytes(16).toString('base64url'), tokens: [] };
    const result = await change(contents);
    await writeTokenStore(path, contents);
    return result;
  } finally {
    await release();
  }
}

/**
 * Issues a token for `clientId` and records its hash.
 * @returns the token text (`fedtl_<tokenId>_<secret>`, to be shown once: it is stored nowhere) and its listing
 * @throws FEDTL_ERR_BAD_CONFIG for a client id outside {@link CLIENT_ID_RULE} or an unreadable store
 */
export async function issueToken(path: string, clientId: string, options: { scrypt?: ScryptParams; now?: Date } = {}): Promise<{ token: string; listing: TokenListing }> {
  if (!isValidClientId(clientId)) throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `--client: expected a client id of ${CLIENT_ID_RULE}, got ${JSON.stringify(clientId)}`);
  const params = options.scrypt ?? DEFAULT_SCRYPT;
  checkScryptParams(params, (expected, got) => {
    throw new RangeError(`scrypt: expected ${expected}, got ${JSON.stringify(got)}`);
  });
  const secret = randomBytes(32).toString('base64url');
  const salt = randomBytes(16);
  return updateTokenStore(path, async (contents) => {
    let tokenId: string;
    do tokenId = randomBytes(8).toString('hex');
    while (contents.tokens.some((t) => t.tokenId === tokenId));
    const hash = await hashSecret(contents.storeId, tokenId, clientId, secret, salt, params);
    const record: StoredToken = {
      tokenId,
      clientId,
      createdAt: (options.now ?? new Date()).toISOString(),
      revokedAt: null,
      scrypt: { ...params },
      salt: salt.toString('base64url'),
      hash: hash.toString('base64url'),
    };
    contents.tokens.push(record);
    return { token: `fedtl_${tokenId}_${secret}`, listing: listingOf(record) };
  });
}

/**
 * Revokes one token (by id) or every token of a client. Revoking is permanent; a revoked token stays listed.
 * @returns the tokens this call revoked, and those that matched but were revoked already
 * @throws FEDTL_ERR_BAD_CONFIG when nothing in the store matches (naming what was asked for) or the store is unreadable
 */
export async function revokeTokens(path: string, which: { tokenId: string } | { clientId: string }, now = new Date()): Promise<{ revoked: TokenListing[]; alreadyRevoked: TokenListing[] }> {
  if (!(await readTokenStore(path))) throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `--out-dir: expected a directory holding a token store (${TOKEN_STORE_FILE}), got ${path}, which does not exist`);
  return updateTokenStore(path, (contents) => {
    const matching = contents.tokens.filter((t) => ('tokenId' in which ? t.tokenId === which.tokenId : t.clientId === which.clientId));
    if (matching.length === 0) {
      const [flag, value] = 'tokenId' in which ? ['--token-id', which.tokenId] : ['--client', which.clientId];
      const known = 'tokenId' in which ? 'a token id' : 'a client';
      throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `${flag}: expected ${known} with tokens in ${path}, got ${JSON.stringify(value)}, which has none (see: npm run token -- list)`);
    }
    const alreadyRevoked = matching.filter((t) => t.revokedAt !== null).map(listingOf);
    const fresh = matching.filter((t) => t.revokedAt === null);
    for (const token of fresh) token.revokedAt = now.toISOString();
    return { revoked: fresh.map(listingOf), alreadyRevoked };
  });
}

/** The shown part of a record. */
function listingOf(token: StoredToken): TokenListing {
  return { tokenId: token.tokenId, clientId: token.clientId, createdAt: token.createdAt, revokedAt: token.revokedAt };
}

/** What a store lists: every token, oldest first, without hashes or salts. */
export function listTokens(contents: TokenStoreContents): TokenListing[] {
  return contents.tokens.map(listingOf);
}

/** scrypt of a token's bound input. */
function hashSecret(storeId: string, tokenId: string, clientId: string, secret: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const input = `${storeId}\n${tokenId}\n${clientId}\n${secret}`;
  return new Promise((resolve, reject) => {
    scrypt(input, salt, params.keyLength, { N: params.N, r: params.r, p: params.p, maxmem: 2 * SCRYPT_MAX_MEMORY }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/**
 * Checks a presented token against a store: by its id, then its secret's hash (constant-time comparison).
 * Runs scrypt only for a well-formed token whose id is in the store.
 */
export async function verifyToken(contents: TokenStoreContents, token: string): Promise<TokenCheck> {
  const parsed = parseTokenText(token);
  const record = parsed && contents.tokens.find((t) => t.tokenId === parsed.tokenId);
  if (!parsed || !record) return { status: 'invalid' };
  const expected = Buffer.from(record.hash, 'base64url');
  const actual = await hashSecret(contents.storeId, record.tokenId, record.clientId, parsed.secret, Buffer.from(record.salt, 'base64url'), record.scrypt);
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return { status: 'invalid' };
  if (record.revokedAt !== null) return { status: 'revoked', tokenId: record.tokenId, clientId: record.clientId, revokedAt: record.revokedAt };
  return { status: 'valid', tokenId: record.tokenId, clientId: record.clientId };
}
