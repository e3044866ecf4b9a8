// Embeds many texts with several worker threads, each holding its own copy of the backbone. TF.js runs one op at a
// time per thread (and the wasm backend has no threads of its own under Node), so on a CPU machine the way to use
// all cores is one backbone per core. Texts go out in batches to whichever worker is free; results come back in
// input order. Batches are length buckets (texts ordered by length, longest first, then cut): the pool has no
// tokenizer, so characters stand in for tokens; a batch of similar lengths pads little, and longest-first lets the
// workers finish together. With one thread the pool embeds in-process: same features, no worker start-up.
import * as os from 'node:os';
import * as path from 'node:path';
import { RpcWorker, createLogger, loggingSettings } from '@fedtl/util';
import { selectedBackend, type BackendName } from '../backend';
import { validateBatchSize, type Backbone } from './backbone';
import { lengthBuckets } from './length-buckets';
import type { EmbedWorkerInfo, EmbedWorkerPayload } from './embed-worker-impl';
import { loadBackbone, parseBackboneSpec } from './load-backbone';
import type { ProgressCallback } from '../progress-callback';

/** Texts per batch sent to a worker (and per forward pass inside it); as USE_LITE_BATCH_SIZE, for the same reason. */
export const POOL_BATCH_SIZE = 8;
// The body's extension follows this file's: .ts from sources (tsx, Jest), .js once built.
const WORKER_ENTRY = path.join(__dirname, `embed-worker-impl${path.extname(__filename)}`);

const log = createLogger('embedding-pool');

export interface EmbeddingPoolOptions {
  /** Worker threads; default one per core (`os.availableParallelism()`). 1 embeds in-process. */
  threads?: number;
  /** Texts per batch; default POOL_BATCH_SIZE. Does not change the features. */
  batchSize?: number;
  /** Backend for the workers; default the one this process selected, else each worker's own choice. */
  backend?: BackendName;
}

export interface EmbedWithPoolOptions extends EmbeddingPoolOptions {
  onProgress?: ProgressCallback;
}

/** One backbone the pool can send a batch to; a slot embeds one batch at a time. */
interface Slot {
  readonly dim: number;
  embed(texts: string[]): Promise<Float32Array>;
  close(): Promise<void>;
}

export class EmbeddingPool {
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly slots: Slot[],
    readonly dim: number,
    private readonly batchSize: number,
  ) {}

  get threads(): number {
    return this.slots.length;
  }

  /** Starts `threads` workers (or loads the backbone in-process for 1) and waits until all have loaded it. */
  static async start(spec: string, options: EmbeddingPoolOptions = {}): Promise<EmbeddingPool> {
    parseBackboneSpec(spec);
    const threads = options.threads ?? os.availableParallelism();
    if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threads must be an integer >= 1; got ${threads}`);
    const batchSize = validateBatchSize(options.batchSize ?? POOL_BATCH_SIZE);
    const backend = options.backend ?? selectedBackend()?.name;
    const started = Date.now();

    let slots: Slot[];
    if (threads === 1) {
      slots = [new InProcessSlot(await loadBackbone(spec, { backend, batchSize }))];
    } else {
      const starting = Array.from({ length: threads }, () => WorkerSlot.start({ spec, backend, batchSize, logging: loggingSettings() }));
      const settled = await Promise.allSettled(starting);
      const failure = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
      slots = settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
      if (failure !== undefined) {
        await Promise.all(slots.map((slot) => slot.close()));
        throw failure.reason;
      }
    }
    log.info('embedding pool started', { spec, threads, mode: threads === 1 ? 'in-process' : 'workers', ms: Date.now() - started });
    return new EmbeddingPool(slots, slots[0].dim, batchSize);
  }

  /** Row-major [texts.length * dim], in input order. Calls run one after another. */
  embed(texts: readonly string[], onProgress?: ProgressCallback): Promise<Float32Array> {
    if (this.closed) return Promise.reject(new Error('the embedding pool is closed'));
    const run = this.tail.then(() => this.run(texts, onProgress));
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Stops the workers (or frees the in-process backbone). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.tail;
    await Promise.all(this.slots.map((slot) => slot.close()));
  }

  private async run(texts: readonly string[], onProgress?: ProgressCallback): Promise<Float32Array> {
    const features = new Float32Array(texts.length * this.dim);
    const batches = lengthBuckets(texts.map((text) => text.length), this.batchSize);
    let next = 0;
    let done = 0;
    let failed = false;
    const drain = async (slot: Slot) => {
      while (!failed && next < batches.length) {
        const batch = batches[next++];
        try {
          const vectors = await slot.embed(batch.map((index) => texts[index]));
          batch.forEach((index, row) => features.set(vectors.subarray(row * this.dim, (row + 1) * this.dim), index * this.dim));
        } catch (err) {
          failed = true;
          throw err;
        }
        done += batch.length;
        onProgress?.(done, texts.length);
      }
    };
    await Promise.all(this.slots.map(drain));
    return features;
  }
}

/** Embeds `texts` with a pool started for this call and closed after it. */
export async function embedWithPool(spec: string, texts: readonly string[], options: EmbedWithPoolOptions = {}): Promise<Float32Array> {
  const threads = Math.min(options.threads ?? os.availableParallelism(), Math.max(1, Math.ceil(texts.length / (options.batchSize ?? POOL_BATCH_SIZE))));
  const pool = await EmbeddingPool.start(spec, { ...options, threads });
  try {
    return await pool.embed(texts, options.onProgress);
  } finally {
    await pool.close();
  }
}

class InProcessSlot implements Slot {
  constructor(private readonly backbone: Backbone) {}

  get dim(): number {
    return this.backbone.dim;
  }

  embed(texts: string[]): Promise<Float32Array> {
    return this.backbone.embed(texts);
  }

  async close(): Promise<void> {
    this.backbone.dispose();
  }
}

class WorkerSlot implements Slot {
  private constructor(private readonly worker: RpcWorker<EmbedWorkerInfo>) {}

  static async start(payload: EmbedWorkerPayload): Promise<WorkerSlot> {
    const worker = await RpcWorker.start<EmbedWorkerInfo, EmbedWorkerPayload>(WORKER_ENTRY, payload, { what: `embedding worker for ${payload.spec}` });
    return new WorkerSlot(worker);
  }

  get dim(): number {
    return this.worker.info.dim;
  }

  embed(texts: string[]): Promise<Float32Array> {
    return this.worker.call<Float32Array>('embed', texts);
  }

  close(): Promise<void> {
    return this.worker.close();
  }
}
