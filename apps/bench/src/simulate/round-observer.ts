// Follows the coordinator's rounds from outside, as an operator would: tails its OUT/metrics.jsonl, and for every
// aggregated round reads that round's checkpoint (the new global adapter+head) and scores it on the held-out test
// set in the worker pool — centralised evaluation, as Flower's server-side `evaluate_fn`. The coordinator keeps its
// last 5 checkpoints and a round takes seconds, so each is read long before it is rotated away; one that is gone
// is recorded without an accuracy rather than guessed.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EvaluationResult } from '@fedtl/model';
import type { NamedTensor } from '@fedtl/protocol';
import { createLogger } from '@fedtl/util';
import { checkpointPath, readCheckpointWeights } from '../domains/checkpoint-reader';

/** One line of metrics.jsonl, the fields this suite reports. */
export interface CoordinatorRoundRecord {
  round: number;
  attempt: number;
  status: 'aggregated' | 'failed';
  selected: string[];
  accepted: string[];
  bytesUp: number;
  bytesDown: number;
  seconds: number;
  finishedAt: string;
  train: Record<string, number>;
}

export interface ObservedRound {
  round: number;
  attempt: number;
  status: 'aggregated' | 'failed';
  /** Clients the coordinator sampled for the round and those whose update it accepted. */
  sampled: number;
  accepted: number;
  /** Payload bytes, coordinator → clients (plans) and clients → coordinator (updates), as the coordinator counted. */
  bytesDown: number;
  bytesUp: number;
  /** The round's wall time, plans out to aggregate checkpointed, as the coordinator measured it. */
  seconds: number;
  finishedAt: string;
  /** The sampled clients' mean training loss (example-weighted, the strategy's aggregate). */
  trainLoss?: number;
  /** The global model after the round on the held-out test set; absent for a failed round or a rotated checkpoint. */
  test?: EvaluationResult['metrics'];
}

export type Evaluate = (weights: readonly NamedTensor[]) => Promise<EvaluationResult>;

const POLL_MS = 250;
const log = createLogger('bench-simulate');

export class RoundObserver {
  private readonly rounds: ObservedRound[] = [];
  private linesSeen = 0;
  private readonly timer: NodeJS.Timeout;
  private polling: Promise<void> = Promise.resolve();
  private failure?: Error;

  constructor(
    private readonly outDir: string,
    private readonly evaluate: Evaluate | undefined,
  ) {
    this.timer = setInterval(() => this.schedule(), POLL_MS);
    this.timer.unref();
  }

  /** Reads what is left in metrics.jsonl, evaluates it, stops polling and returns every round seen, in order. */
  async finish(): Promise<ObservedRound[]> {
    clearInterval(this.timer);
    this.schedule();
    await this.polling;
    if (this.failure) throw this.failure;
    return [...this.rounds];
  }

  private schedule(): void {
    this.polling = this.polling.then(() => this.poll()).catch((err: Error) => {
      this.failure ??= err;
    });
  }

  private async poll(): Promise<void> {
    const file = join(this.outDir, 'metrics.jsonl');
    if (!existsSync(file)) return;
    const lines = (await readFile(file, 'utf8')).split('\n');
    // The last piece is a line still being written (or empty after the final newline): read it next time.
    const complete = lines.slice(0, -1).filter((line) => line.trim() !== '');
    for (const line of complete.slice(this.linesSeen)) {
      this.linesSeen++;
      this.rounds.push(await this.observe(JSON.parse(line) as CoordinatorRoundRecord));
    }
  }

  private async observe(record: CoordinatorRoundRecord): Promise<ObservedRound> {
    const observed: ObservedRound = {
      round: record.round,
      attempt: record.attempt,
      status: record.status,
      sampled: record.selected.length,
      accepted: record.accepted.length,
      bytesDown: record.bytesDown,
      bytesUp: record.bytesUp,
      seconds: record.seconds,
      finishedAt: record.finishedAt,
      ...(record.train.loss !== undefined ? { trainLoss: record.train.loss } : {}),
    };
    if (record.status !== 'aggregated' || !this.evaluate) return observed;
    const path = checkpointPath(this.outDir, record.round);
    if (!existsSync(path)) {
      log.warn('the round checkpoint was rotated away before it was evaluated', { round: record.round });
      return observed;
    }
    const result = await this.evaluate(await readCheckpointWeights(path));
    log.info('round evaluated', { round: record.round, accuracy: result.metrics.accuracy, seconds: record.seconds });
    return { ...observed, test: result.metrics };
  }
}
