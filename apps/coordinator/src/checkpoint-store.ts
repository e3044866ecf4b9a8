// Checkpoints of the global trainable tensors, written after every aggregated round.
//
// File layout (little-endian): "FEDTLCK1" | u32 header length | header JSON | tensor bytes | sha256 of all before.
// Writes are atomic (temp file, fsync, rename, fsync of the directory), so a crash leaves either the old or
// the new checkpoint, never half of one; the trailing checksum catches a file damaged any other way.
import { createHash } from 'node:crypto';
import { open, readdir, readFile, rename, mkdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { FedtlError, createLogger } from '@fedtl/util';
import type { NamedTensor } from '@fedtl/protocol';
import type { StrategyState } from '@fedtl/strategies';

const MAGIC = Buffer.from('FEDTLCK1', 'ascii');
const CHECKSUM_BYTES = 32;
const FILE_PATTERN = /^round-(\d{6})\.ckpt$/;

export interface Checkpoint {
  runId: string;
  /** Number of rounds completed when this checkpoint was taken. */
  round: number;
  configHash: string;
  weights: NamedTensor[];
  /** The strategy's server state (optimiser moments…); its tensors are stored like the weights. */
  strategyState: StrategyState;
  createdAt: string;
}

/** Tensors of the global model are in group "weights"; a strategy's state tensors in "state:<key>". */
interface HeaderTensor {
  group: string;
  name: string;
  shape: number[];
  dtype: NamedTensor['dtype'];
  byteLength: number;
}

interface Header {
  runId: string;
  round: number;
  configHash: string;
  strategyScalars: Record<string, number>;
  createdAt: string;
  tensors: HeaderTensor[];
}

const log = createLogger('checkpoint');

export function encodeCheckpoint(checkpoint: Checkpoint): Buffer {
  const groups: Array<[string, NamedTensor[]]> = [
    ['weights', checkpoint.weights],
    ...Object.entries(checkpoint.strategyState.tensors).map(([key, tensors]): [string, NamedTensor[]] => [`state:${key}`, tensors]),
  ];
  const all = groups.flatMap(([group, tensors]) => tensors.map((tensor) => ({ group, tensor })));
  const header: Header = {
    runId: checkpoint.runId,
    round: checkpoint.round,
    configHash: checkpoint.configHash,
    strategyScalars: checkpoint.strategyState.scalars,
    createdAt: checkpoint.createdAt,
    tensors: all.map(({ group, tensor: t }) => ({ group, name: t.name, shape: t.shape, dtype: t.dtype, byteLength: t.data.byteLength })),
  };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32LE(headerBytes.length);
  const body = Buffer.concat([
    MAGIC,
    length,
    headerBytes,
    ...all.map(({ tensor: t }) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)),
  ]);
  return Buffer.concat([body, createHash('sha256').update(body).digest()]);
}

export function decodeCheckpoint(bytes: Buffer, source = 'checkpoint'): Checkpoint {
  const corrupt = (why: string) => new FedtlError('FEDTL_ERR_CHECKPOINT_CORRUPT', `${source}: ${why}`);
  if (bytes.length < MAGIC.length + 4 + CHECKSUM_BYTES || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw corrupt(`expected a fedtl checkpoint starting with "FEDTLCK1", got ${bytes.length} bytes of something else`);
  }
  const body = bytes.subarray(0, bytes.length - CHECKSUM_BYTES);
  const expected = bytes.subarray(bytes.length - CHECKSUM_BYTES);
  if (!createHash('sha256').update(body).digest().equals(expected)) throw corrupt('checksum mismatch (truncated or damaged file)');
  const headerLength = body.readUInt32LE(MAGIC.length);
  const headerStart = MAGIC.length + 4;
  const header = JSON.parse(body.subarray(headerStart, headerStart + headerLength).toString('utf8')) as Header;
  let offset = headerStart + headerLength;
  const weights: NamedTensor[] = [];
  const stateTensors: Record<string, NamedTensor[]> = {};
  for (const t of header.tensors) {
    // Copy into a fresh, aligned buffer: typed arrays need 4-byte alignment and the file buffer has none.
    const chunk = new Uint8Array(body.subarray(offset, offset + t.byteLength));
    offset += t.byteLength;
    const data = t.dtype === 'int32' ? new Int32Array(chunk.buffer) : new Float32Array(chunk.buffer);
    const tensor: NamedTensor = { name: t.name, shape: t.shape, dtype: t.dtype, data };
    if (t.group === 'weights') weights.push(tensor);
    else (stateTensors[t.group.slice('state:'.length)] ??= []).push(tensor);
  }
  if (offset !== body.length) throw corrupt(`expected ${offset} bytes of header and tensors, got ${body.length}`);
  return {
    runId: header.runId,
    round: header.round,
    configHash: header.configHash,
    strategyState: { scalars: header.strategyScalars, tensors: stateTensors },
    createdAt: header.createdAt,
    weights,
  };
}

export class CheckpointStore {
  constructor(
    readonly dir: string,
    /** How many checkpoints to keep; older ones are deleted after a successful write. */
    private readonly keep = 5,
  ) {}

  pathFor(round: number): string {
    return join(this.dir, `round-${String(round).padStart(6, '0')}.ckpt`);
  }

  async save(checkpoint: Checkpoint): Promise<string> {
    await mkdir(this.dir, { recursive: true });
    const target = this.pathFor(checkpoint.round);
    const temp = `${target}.tmp-${process.pid}`;
    const file = await open(temp, 'w');
    try {
      await file.writeFile(encodeCheckpoint(checkpoint));
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, target);
    await this.syncDirectory();
    await this.prune();
    return target;
  }

  /** The newest checkpoint that passes its checksum; damaged newer ones are skipped with a warning. */
  async loadLatest(): Promise<Checkpoint | null> {
    for (const round of await this.rounds()) {
      const path = this.pathFor(round);
      try {
        return decodeCheckpoint(await readFile(path), path);
      } catch (err) {
        log.warn('skipping unreadable checkpoint, falling back to the previous one', { path, error: (err as Error).message });
      }
    }
    return null;
  }

  /** Completed-round numbers of the checkpoints on disk, newest first. */
  async rounds(): Promise<number[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    return names
      .map((name) => FILE_PATTERN.exec(name))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => b - a);
  }

  private async syncDirectory(): Promise<void> {
    const dir = await open(this.dir, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  private async prune(): Promise<void> {
    const rounds = await this.rounds();
    for (const round of rounds.slice(this.keep)) await unlink(this.pathFor(round)).catch(() => undefined);
  }
}
