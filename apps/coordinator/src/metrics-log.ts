// The run's per-round record: one JSON object a line in OUT/metrics.jsonl, appended and flushed per round,
// so a crash loses at most the round in flight and `tail -f` shows progress.
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Metrics } from '@fedtl/protocol';
import type { ClientFailure } from '@fedtl/strategies';
import type { BoundedUpdate } from './round-collector';

export interface RoundRecord {
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
  bytesUp: number;
  bytesDown: number;
  seconds: number;
  finishedAt: string;
}

export class MetricsLog {
  constructor(readonly path: string) {}

  async append(record: RoundRecord): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    await appendFile(this.path, JSON.stringify(record) + '\n');
  }
}
