// The run's per-round record: one JSON object a line in OUT/metrics.jsonl, appended and flushed per round,
// so a crash loses at most the round in flight and `tail -f` shows progress. Every record names its run, so
// records of runs that shared a directory over time stay apart.
import { appendFile, mkdir, open, truncate } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { PrivacyEvent, PrivacySpend } from '@fedtl/privacy';
import type { Metrics } from '@fedtl/protocol';
import type { ClientFailure } from '@fedtl/strategies';
import { createLogger } from '@fedtl/util';
import type { BoundedUpdate } from './round-collector';

/**
 * Longest failure message a record keeps (characters): a client's own error text is already cut to 1 KiB at
 * decoding, and the coordinator's words around it fit in the rest.
 */
export const FAILURE_MESSAGE_CHARS = 2048;

export interface RoundRecord {
  /** The run this round belongs to (the checkpoints' run id). */
  runId: string;
  round: number;
  attempt: number;
  status: 'aggregated' | 'failed';
  selected: string[];
  accepted: string[];
  failures: ClientFailure[];
  /** Accepted updates the bounds changed: clipped to the norm bound (by what factor) or weight-capped. */
  bounded?: Record<string, BoundedUpdate>;
  /** Training metrics aggregated by the strategy (weighted by example count). */
  train: Metrics;
  /** Evaluation of the new global model, aggregated over clients. */
  evaluation: Metrics;
  /** Per-client evaluation metrics. */
  clients: Record<string, Metrics>;
  /**
   * Differential privacy: the events this attempt charged (record-level: every selected client as the plans went
   * out; client-level: the round, when it aggregated) and what the ledger adds up to after it, at the run's δ.
   */
  privacy?: { events: PrivacyEvent[]; spent: PrivacySpend[] };
  bytesUp: number;
  bytesDown: number;
  /** Of bytesUp: the payloads of `update` events (absent from records written before it was counted). */
  updateBytesUp?: number;
  seconds: number;
  finishedAt: string;
}

const log = createLogger('metrics-log');

/** How far back from the end a torn line is looked for; a record is a few KiB, far less than this. */
const TAIL_WINDOW = 1 << 20;

export class MetricsLog {
  constructor(readonly path: string) {}

  /**
   * Cuts a torn last line (a crash mid-append) back to the end of the last complete record, with a warning
   * naming the bytes dropped, so the next record starts on its own line. Returns the number of bytes dropped
   * (0 when the file is missing, empty or whole). Call at start, before the first append.
   */
  async repairTornTail(): Promise<number> {
    let file;
    try {
      file = await open(this.path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw err;
    }
    let keep: number;
    let size: number;
    try {
      size = (await file.stat()).size;
      if (size === 0) return 0;
      const start = Math.max(0, size - TAIL_WINDOW);
      const tail = Buffer.alloc(size - start);
      await file.read(tail, 0, tail.length, start);
      if (tail[tail.length - 1] === 0x0a) return 0;
      const lastNewline = tail.lastIndexOf(0x0a);
      keep = lastNewline >= 0 ? start + lastNewline + 1 : start === 0 ? 0 : size;
    } finally {
      await file.close();
    }
    if (keep === size) return 0;
    await truncate(this.path, keep);
    log.warn('metrics.jsonl ended in a torn record (a crash mid-append); cut it back to the last complete line', { path: this.path, bytesDropped: size - keep });
    return size - keep;
  }

  async append(record: RoundRecord): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    await appendFile(this.path, JSON.stringify(record) + '\n');
  }
}
