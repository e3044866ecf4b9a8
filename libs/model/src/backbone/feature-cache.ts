// Backbone features computed once per (backbone, text) and kept on disk, so that every round and every run after
// the first trains from the cache instead of running the frozen backbone again.
//
// One file per backbone content hash, `<dir>/<contentHash>.features`:
//   header  16 bytes   "FEDTLFC1" (magic and format version), dim (uint32 LE), dtype code (uint32 LE, 1 = float32)
//   record  32 + 4*dim sha256(text as UTF-8), then the feature vector as float32 LE
// Records are only ever appended, one batch per write. float32, not float16: a feature read back is bit-identical
// to a fresh one, so training does not depend on whether the cache was warm. The index (key -> offset) is built
// when the file is opened. A crash can leave a partial last record; opening drops it (truncates the file to the
// last whole record), so nothing is lost but the unfinished batch. One process per file at a time, enforced
// for writers by a lock file holding the owner's pid (readers need none; a dead owner's lock is taken over).
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BackboneRef } from '@fedtl/protocol';
import { FedtlError, createLogger, processAlive } from '@fedtl/util';
import { validateBatchSize } from './backbone';
import type { ProgressCallback } from '../progress-callback';

const MAGIC = Buffer.from('FEDTLFC1', 'ascii');
const HEADER_BYTES = 16;
const KEY_BYTES = 32;
const DTYPE_FLOAT32 = 1;
/** Misses embedded per call of the embed function, and appended per write. */
export const FEATURE_CACHE_BATCH_SIZE = 1024;
const INDEX_READ_RECORDS = 4096;

const log = createLogger('feature-cache');

export type EmbedFunction = (texts: string[]) => Promise<Float32Array>;

export interface EmbedAllOptions {
  /** Misses per call of the embed function (and per append); default FEATURE_CACHE_BATCH_SIZE. */
  batchSize?: number;
  /** Called with (texts done, texts in all) as hits are read and each batch of misses is embedded. */
  onProgress?: ProgressCallback;
}

export interface FeatureCacheStats {
  /** Texts answered from the file. */
  hits: number;
  /** Distinct texts that had to be embedded. */
  misses: number;
}

export class FeatureCache {
  readonly dim: number;
  private readonly index = new Map<string, number>();
  private readonly recordBytes: number;
  private fd: number | undefined;
  private size: number;
  /** Whether this instance holds the lock file: only the holder writes. */
  private writing = false;
  private readonly counts: FeatureCacheStats = { hits: 0, misses: 0 };

  private constructor(
    readonly file: string,
    readonly backbone: BackboneRef,
  ) {
    this.dim = backbone.dim;
    this.recordBytes = KEY_BYTES + 4 * this.dim;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.fd = fs.openSync(file, 'a+');
    try {
      this.size = this.prepare();
    } catch (err) {
      this.close();
      throw err;
    }
  }

  /** Opens (or creates) the cache file for `backbone` under `dir` and indexes what it holds. */
  static open(dir: string, backbone: BackboneRef): FeatureCache {
    if (!/^[0-9a-f]{64}$/.test(backbone.contentHash)) {
      throw new RangeError(`backbone.contentHash must be 64 hex digits; got "${backbone.contentHash}"`);
    }
    if (!Number.isInteger(backbone.dim) || backbone.dim < 1) throw new RangeError(`backbone.dim must be an integer >= 1; got ${backbone.dim}`);
    return new FeatureCache(path.join(dir, `${backbone.contentHash}.features`), backbone);
  }

  /** Distinct texts stored. */
  get count(): number {
    return this.index.size;
  }

  stats(): FeatureCacheStats {
    return { ...this.counts };
  }

  has(text: string): boolean {
    return this.index.has(keyOf(text).toString('hex'));
  }

  /** The stored features of `text`, or undefined. */
  get(text: string): Float32Array | undefined {
    const offset = this.index.get(keyOf(text).toString('hex'));
    if (offset === undefined) return undefined;
    const vector = new Float32Array(this.dim);
    this.readVector(offset, vector, 0);
    return vector;
  }

  /**
   * Features of all `texts`, row-major [texts.length * dim], embedding only those not stored yet (each distinct
   * text once) in batches, each batch appended before the next starts.
   */
  async embedAll(texts: readonly string[], embed: EmbedFunction, options: EmbedAllOptions = {}): Promise<Float32Array> {
    const batchSize = validateBatchSize(options.batchSize ?? FEATURE_CACHE_BATCH_SIZE);
    const features = new Float32Array(texts.length * this.dim);
    const missing = new Map<string, { key: Buffer; rows: number[] }>();
    let done = 0;
    texts.forEach((text, row) => {
      const key = keyOf(text);
      const hex = key.toString('hex');
      const offset = this.index.get(hex);
      if (offset !== undefined) {
        this.readVector(offset, features, row);
        this.counts.hits++;
        done++;
        return;
      }
      const pending = missing.get(hex);
      if (pending === undefined) missing.set(hex, { key, rows: [row] });
      else pending.rows.push(row);
    });
    options.onProgress?.(done, texts.length);

    const pending = [...missing.values()];
    for (let start = 0; start < pending.length; start += batchSize) {
      const batch = pending.slice(start, start + batchSize);
      const vectors = await embed(batch.map((entry) => texts[entry.rows[0]]));
      if (vectors.length !== batch.length * this.dim) {
        throw new FedtlError(
          'FEDTL_ERR_BAD_TENSOR_SHAPE',
          `the embed function should return ${batch.length} x ${this.dim} = ${batch.length * this.dim} values; got ${vectors.length}`,
        );
      }
      this.append(batch.map((entry) => entry.key), vectors);
      batch.forEach((entry, i) => {
        const vector = vectors.subarray(i * this.dim, (i + 1) * this.dim);
        for (const row of entry.rows) features.set(vector, row * this.dim);
        done += entry.rows.length;
      });
      this.counts.misses += batch.length;
      options.onProgress?.(done, texts.length);
    }
    return features;
  }

  close(): void {
    if (this.fd === undefined) return;
    fs.closeSync(this.fd);
    this.fd = undefined;
    if (this.writing) fs.rmSync(this.lockFile, { force: true });
    this.writing = false;
  }

  private get lockFile(): string {
    return `${this.file}.lock`;
  }

  /**
   * Becomes the file's one writer (readers need no lock): takes the lock file, or throws naming the process
   * that holds it. The first time, re-indexes, since another writer may have appended since we indexed.
   */
  private becomeWriter(): void {
    if (this.writing) return;
    acquireLock(this.lockFile, this.file);
    this.writing = true;
    this.size = this.prepare();
  }

  private get openFd(): number {
    if (this.fd === undefined) throw new Error(`the feature cache ${this.file} is closed`);
    return this.fd;
  }

  /** Checks or writes the header, drops a partial last record, indexes the records; returns the file size. */
  private prepare(): number {
    const fd = this.openFd;
    let size = fs.fstatSync(fd).size;
    if (!this.writing && (size === 0 || !this.headerMatches(size))) {
      // Writing a header or setting a bad file aside is a writer's job; becomeWriter() prepares again as one.
      this.becomeWriter();
      return this.size;
    }
    if (size > 0 && !this.headerMatches(size)) {
      // A cache is disposable: set a foreign or damaged file aside rather than refuse to run.
      const aside = `${this.file}.unreadable-${Date.now()}`;
      fs.closeSync(fd);
      fs.renameSync(this.file, aside);
      log.warn('feature cache file unreadable; set aside, starting empty', { file: this.file, movedTo: aside });
      this.fd = fs.openSync(this.file, 'a+');
      size = 0;
    }
    if (size === 0) {
      const header = Buffer.alloc(HEADER_BYTES);
      MAGIC.copy(header, 0);
      header.writeUInt32LE(this.dim, 8);
      header.writeUInt32LE(DTYPE_FLOAT32, 12);
      writeFully(this.openFd, header, this.file);
      this.index.clear();
      return HEADER_BYTES;
    }
    const records = Math.floor((size - HEADER_BYTES) / this.recordBytes);
    const whole = HEADER_BYTES + records * this.recordBytes;
    // A partial last record is a crashed writer's, or a live writer's in progress: only the writer may cut it.
    if (whole !== size && (this.writing || tryAcquireLock(this.lockFile))) {
      this.writing = true;
      fs.ftruncateSync(this.openFd, whole);
      log.warn('dropped a partial record at the end of the feature cache', { file: this.file, bytes: size - whole });
    }
    this.index.clear();
    this.buildIndex(records);
    return whole;
  }

  private headerMatches(size: number): boolean {
    if (size < HEADER_BYTES) return false;
    const header = Buffer.alloc(HEADER_BYTES);
    readFully(this.openFd, header, 0, this.file);
    return header.subarray(0, 8).equals(MAGIC) && header.readUInt32LE(8) === this.dim && header.readUInt32LE(12) === DTYPE_FLOAT32;
  }

  private buildIndex(records: number): void {
    const chunk = Buffer.alloc(INDEX_READ_RECORDS * this.recordBytes);
    for (let first = 0; first < records; first += INDEX_READ_RECORDS) {
      const count = Math.min(INDEX_READ_RECORDS, records - first);
      const position = HEADER_BYTES + first * this.recordBytes;
      readFully(this.openFd, chunk.subarray(0, count * this.recordBytes), position, this.file);
      for (let r = 0; r < count; r++) {
        const hex = chunk.toString('hex', r * this.recordBytes, r * this.recordBytes + KEY_BYTES);
        if (!this.index.has(hex)) this.index.set(hex, position + r * this.recordBytes);
      }
    }
  }

  private append(keys: Buffer[], vectors: Float32Array): void {
    this.becomeWriter();
    const block = Buffer.alloc(keys.length * this.recordBytes);
    keys.forEach((key, i) => {
      const at = i * this.recordBytes;
      key.copy(block, at);
      const vector = vectors.subarray(i * this.dim, (i + 1) * this.dim);
      for (let k = 0; k < this.dim; k++) block.writeFloatLE(vector[k], at + KEY_BYTES + 4 * k);
    });
    writeFully(this.openFd, block, this.file);
    keys.forEach((key, i) => {
      const hex = key.toString('hex');
      if (!this.index.has(hex)) this.index.set(hex, this.size + i * this.recordBytes);
    });
    this.size += block.length;
  }

  private readVector(offset: number, into: Float32Array, row: number): void {
    const bytes = Buffer.alloc(4 * this.dim);
    readFully(this.openFd, bytes, offset + KEY_BYTES, this.file);
    for (let k = 0; k < this.dim; k++) into[row * this.dim + k] = bytes.readFloatLE(4 * k);
  }
}

function keyOf(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Reads exactly `target.length` bytes at `position`; a short read means the file changed under us. */
function readFully(fd: number, target: Uint8Array, position: number, file: string): void {
  let done = 0;
  while (done < target.length) {
    const read = fs.readSync(fd, target, done, target.length - done, position + done);
    if (read === 0) {
      throw new FedtlError('FEDTL_ERR_BAD_DATA', `${file}: expected ${target.length} bytes at offset ${position}, got ${done} (was the cache changed by another process?)`);
    }
    done += read;
  }
}

function writeFully(fd: number, source: Uint8Array, file: string): void {
  let done = 0;
  while (done < source.length) {
    const written = fs.writeSync(fd, source, done, source.length - done);
    if (written === 0) throw new FedtlError('FEDTL_ERR_BAD_DATA', `${file}: could not write ${source.length - done} more bytes`);
    done += written;
  }
}

/** Takes the cache's lock file, or explains who holds it. */
function acquireLock(lockFile: string, file: string): void {
  if (tryAcquireLock(lockFile)) return;
  const owner = lockOwner(lockFile);
  throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `the feature cache ${file} is being written by process ${owner ?? 'unknown'}; give each client process its own cache directory`);
}

/** Takes the lock file holding our pid; a lock whose process is gone is taken over. False when it is held. */
function tryAcquireLock(lockFile: string): boolean {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = lockOwner(lockFile);
    if (owner !== undefined && processAlive(owner)) return false;
    fs.rmSync(lockFile, { force: true });
  }
  return false;
}

function lockOwner(lockFile: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(lockFile, 'utf8'));
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
