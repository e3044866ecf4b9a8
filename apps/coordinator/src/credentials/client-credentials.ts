// The running coordinator's view of its token store: the last good copy of the file, re-read when the file
// changes, with the revocations each re-read brings announced as events (the coordinator disconnects those
// clients). A presented token is verified with scrypt once; the same token again (the handshake, the Socket.IO
// auth and the Join of one connection, every reconnect) is matched against a SHA-256 of it kept in memory.
//
// Changes are found by polling the file's stat and comparing it with the stat taken just before the last read,
// not with fs.watchFile's own first stat: that one is taken asynchronously after watching starts, so a write
// landing between our read and it (a token revoked the moment the coordinator starts) was never seen.
import { EventEmitter } from 'node:events';
import { createHash, timingSafeEqual } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { FedtlError, createLogger, toFedtlError } from '@fedtl/util';
import { parseTokenText, readTokenStore, verifyToken, type TokenCheck, type TokenStoreContents } from './token-store';

/** A token that stopped being valid while the coordinator ran: revoked, or gone from the store. */
export interface Revocation {
  tokenId: string;
  clientId: string;
  reason: 'revoked' | 'removed';
}

export interface ClientCredentialsEvents {
  revoked: [revocation: Revocation];
  /** A re-read of the store succeeded (its contents are in force). */
  reloaded: [];
  /** A re-read failed (the file is gone, unreadable or malformed); the last good copy stays in force. */
  reloadFailed: [error: Error];
}

export interface ClientCredentialsOptions {
  /** How often the file's stat is polled, in ms. Polling survives the rename that replaces the file. */
  pollIntervalMs?: number;
  /** A change is read this long after it is first seen, in ms, so a burst of writes is read once. */
  debounceMs?: number;
}

/**
 * scrypt runs on libuv's thread pool (4 threads), which file reads and checkpoint writes share: peers presenting
 * wrong secrets for a known token id must not occupy all of it. Verifications beyond this wait their turn.
 */
const MAX_CONCURRENT_VERIFICATIONS = 2;

const log = createLogger('client-credentials');

export class ClientCredentials extends EventEmitter<ClientCredentialsEvents> {
  /** Per token id, the SHA-256 of the token text that verified, and the record's hash it verified against. */
  private readonly verified = new Map<string, { digest: Buffer; hash: string }>();
  private debounce?: NodeJS.Timeout;
  private readonly poll: NodeJS.Timeout;
  private polling = false;
  private reading: Promise<void> = Promise.resolve();
  private closed = false;
  private verifying = 0;
  private readonly waiting: Array<() => void> = [];

  private constructor(
    readonly path: string,
    private contents: TokenStoreContents,
    /** The file's stat taken just before `contents` was read ('missing' when it was gone). */
    private readStat: string,
    private readonly options: Required<ClientCredentialsOptions>,
  ) {
    super();
    this.poll = setInterval(() => void this.checkForChange(), options.pollIntervalMs);
    this.poll.unref();
  }

  /**
   * Reads the store and starts watching it.
   * @throws FEDTL_ERR_BAD_CONFIG when the file does not exist or is not a valid store
   */
  static async open(path: string, options: ClientCredentialsOptions = {}): Promise<ClientCredentials> {
    const readStat = await statSignature(path);
    const contents = await readTokenStore(path);
    if (!contents) {
      throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `--token-store: expected a token store, got ${path}, which does not exist (issue a token first: npm run token -- issue)`);
    }
    const credentials = new ClientCredentials(path, contents, readStat, { pollIntervalMs: options.pollIntervalMs ?? 500, debounceMs: options.debounceMs ?? 100 });
    log.info('per-client tokens on', { store: path, active: contents.tokens.filter((t) => t.revokedAt === null).length });
    return credentials;
  }

  /** Whether `tokenId` names an unrevoked token of the store as last read. */
  isActive(tokenId: string): boolean {
    return this.contents.tokens.some((t) => t.tokenId === tokenId && t.revokedAt === null);
  }

  /** Checks a presented token (see verifyToken); scrypt runs once per token while its record is unchanged. */
  async check(token: string): Promise<TokenCheck> {
    const parsed = parseTokenText(token);
    const record = parsed && this.contents.tokens.find((t) => t.tokenId === parsed.tokenId);
    if (!parsed || !record) return { status: 'invalid' };
    const digest = createHash('sha256').update(token).digest();
    const known = this.verified.get(record.tokenId);
    if (known && known.hash === record.hash && record.revokedAt === null && timingSafeEqual(known.digest, digest)) {
      return { status: 'valid', tokenId: record.tokenId, clientId: record.clientId };
    }
    const contents = this.contents;
    const result = await this.boundedVerification(() => verifyToken(contents, token));
    if (result.status === 'valid' && contents === this.contents) this.verified.set(record.tokenId, { digest, hash: record.hash });
    // The store may have been re-read while scrypt ran: what it says now is what counts.
    if (result.status === 'valid' && !this.isActive(result.tokenId)) return { status: 'invalid' };
    return result;
  }

  /** Runs `job` when fewer than MAX_CONCURRENT_VERIFICATIONS run; a finishing job hands its slot to the next. */
  private async boundedVerification<T>(job: () => Promise<T>): Promise<T> {
    if (this.verifying >= MAX_CONCURRENT_VERIFICATIONS) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.verifying++;
    try {
      return await job();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.verifying--;
    }
  }

  /** Re-reads the store now (the watch calls this after a change); resolves when the read is done, never rejects. */
  reload(): Promise<void> {
    this.reading = this.reading.then(() => this.read());
    return this.reading;
  }

  /** Stops watching the file. */
  close(): void {
    this.closed = true;
    clearTimeout(this.debounce);
    clearInterval(this.poll);
  }

  /** One poll: a stat unlike the one taken before the last read schedules a re-read (debounced). */
  private async checkForChange(): Promise<void> {
    if (this.polling || this.closed) return;
    this.polling = true;
    try {
      const now = await statSignature(this.path);
      if (this.closed || now === this.readStat || this.debounce) return;
      this.debounce = setTimeout(() => {
        this.debounce = undefined;
        void this.reload();
      }, this.options.debounceMs);
    } finally {
      this.polling = false;
    }
  }

  private async read(): Promise<void> {
    if (this.closed) return;
    let next: TokenStoreContents | undefined;
    try {
      // Taken before the read: a write landing during the read leaves a stat unlike this one, and the next poll
      // reads again.
      this.readStat = await statSignature(this.path);
      next = await readTokenStore(this.path);
      if (!next) throw new Error(`${this.path} is gone`);
    } catch (err) {
      const error = toFedtlError(err);
      log.error('cannot re-read the token store; the last good copy stays in force', { store: this.path, error: error.message });
      this.emit('reloadFailed', error);
      return;
    }
    const before = this.contents;
    this.contents = next;
    const sameStore = before.storeId === next.storeId;
    for (const old of before.tokens) {
      if (old.revokedAt !== null) continue;
      const now = sameStore ? next.tokens.find((t) => t.tokenId === old.tokenId) : undefined;
      if (now && now.revokedAt === null && now.hash === old.hash && now.clientId === old.clientId) continue;
      this.verified.delete(old.tokenId);
      const revocation: Revocation = { tokenId: old.tokenId, clientId: old.clientId, reason: now?.revokedAt ? 'revoked' : 'removed' };
      log.warn('a token is no longer valid', { ...revocation });
      this.emit('revoked', revocation);
    }
    this.emit('reloaded');
  }
}

/** What identifies one version of the file: inode (an atomic rename makes a new one), size, mtime and ctime. */
async function statSignature(path: string): Promise<string> {
  try {
    const s = await stat(path, { bigint: true });
    return `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
  } catch {
    return 'missing';
  }
}
