// The simulation's worker pool (Flower's simulation engine runs client jobs on a pool of actors sized to the
// machine; this is its counterpart): W worker threads, one per core by default, each with ONE adapter+head model
// (simulation-worker.ts). A selected virtual client's training job goes to whichever worker is free; jobs wait
// in arrival order. So memory holds W models, whatever the number of virtual clients, and all cores train.
import * as os from 'node:os';
import * as path from 'node:path';
import type { BackendName, EvaluationResult } from '@fedtl/model';
import type { ModelSpec, NamedTensor } from '@fedtl/protocol';
import { RpcWorker, loggingSettings, transferListOf } from '@fedtl/util';
import type { SharedFeatureTable } from './shared-features';
import type { SimulationWorkerInfo, SimulationWorkerPayload, TrainedUpdate, TrainingJob } from './simulation-worker';

// The body's extension follows this file's: .ts from sources (tsx, Jest), .js once built.
const WORKER_ENTRY = path.join(__dirname, `simulation-worker${path.extname(__filename)}`);

export interface TrainingPoolOptions {
  /** Worker threads; default `os.availableParallelism()`. */
  workers?: number;
  backend?: BackendName;
  train: SharedFeatureTable;
  test?: SharedFeatureTable;
}

export interface PoolStats {
  jobs: number;
  /** Wall seconds the workers spent on training jobs, summed over workers. */
  trainingSeconds: number;
  /** The same for evaluations. */
  evaluationSeconds: number;
}

interface Queued {
  method: 'train' | 'evaluate';
  args: unknown;
  transfer: ArrayBuffer[];
  resolve: (result: unknown) => void;
  reject: (err: Error) => void;
}

export class TrainingPool {
  private readonly idle: Array<RpcWorker<SimulationWorkerInfo>>;
  private readonly queue: Queued[] = [];
  private readonly totals: PoolStats = { jobs: 0, trainingSeconds: 0, evaluationSeconds: 0 };
  private closed = false;

  private constructor(private readonly workers: Array<RpcWorker<SimulationWorkerInfo>>) {
    this.idle = [...workers];
  }

  /**
   * Starts the workers (each loads TF.js and its backend) and resolves once all are ready.
   * @throws RangeError for a worker count that is not an integer ≥ 1; the first worker's start-up error otherwise
   *   (the others are stopped).
   */
  static async start(options: TrainingPoolOptions): Promise<TrainingPool> {
    const count = options.workers ?? os.availableParallelism();
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`TrainingPool: expected workers to be an integer ≥ 1, got ${count}`);
    const payload: SimulationWorkerPayload = { backend: options.backend, logging: loggingSettings(), train: options.train, test: options.test };
    const settled = await Promise.allSettled(
      Array.from({ length: count }, () => RpcWorker.start<SimulationWorkerInfo, SimulationWorkerPayload>(WORKER_ENTRY, payload, { what: 'simulation worker' })),
    );
    const started = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failure) {
      await Promise.all(started.map((worker) => worker.close()));
      throw failure.reason;
    }
    return new TrainingPool(started);
  }

  get size(): number {
    return this.workers.length;
  }

  /** The backend every worker chose (they choose alike on one machine). */
  get backend(): BackendName {
    return this.workers[0].info.backend;
  }

  stats(): PoolStats {
    return { ...this.totals };
  }

  /**
   * Trains one virtual client's job on the next free worker and returns its update (the weights are copied for
   * the worker; the caller's stay intact). Rejects with the worker's error code, or when the pool is closed.
   */
  train(job: TrainingJob): Promise<TrainedUpdate> {
    const weights = ownedCopies(job.weights);
    return this.submit<TrainedUpdate>('train', { ...job, weights }, transferListOf(weights.map((t) => t.data)));
  }

  /** Scores `weights` on the pool's test table (accuracy, macro-F1, loss; counts per label). */
  evaluate(spec: ModelSpec, weights: readonly NamedTensor[]): Promise<EvaluationResult> {
    const copies = ownedCopies(weights);
    return this.submit<EvaluationResult>('evaluate', { spec, weights: copies }, transferListOf(copies.map((t) => t.data)));
  }

  /** `tf.memory().numTensors` in every worker, asked when the pool is idle. */
  numTensors(): Promise<number[]> {
    return Promise.all(this.workers.map((worker) => worker.call<number>('memory', null)));
  }

  /** Stops every worker; queued jobs reject. */
  async close(): Promise<void> {
    this.closed = true;
    for (const queued of this.queue.splice(0)) queued.reject(new Error('the training pool was closed'));
    await Promise.all(this.workers.map((worker) => worker.close()));
  }

  private submit<Result>(method: Queued['method'], args: unknown, transfer: ArrayBuffer[]): Promise<Result> {
    if (this.closed) return Promise.reject(new Error('the training pool is closed'));
    return new Promise<Result>((resolve, reject) => {
      this.queue.push({ method, args, transfer, resolve: resolve as (result: unknown) => void, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const worker = this.idle.shift() as RpcWorker<SimulationWorkerInfo>;
      const job = this.queue.shift() as Queued;
      const started = performance.now();
      worker
        .call(job.method, job.args, job.transfer)
        .then(job.resolve, job.reject)
        .finally(() => {
          const seconds = (performance.now() - started) / 1000;
          this.totals.jobs++;
          if (job.method === 'train') this.totals.trainingSeconds += seconds;
          else this.totals.evaluationSeconds += seconds;
          if (!this.closed && !worker.dead) this.idle.push(worker);
          // A crashed worker is not replaced: with none left alive, what waits would wait forever.
          if (this.workers.every((w) => w.dead)) {
            for (const queued of this.queue.splice(0)) queued.reject(new Error('every simulation worker has died'));
          }
          this.dispatch();
        });
    }
  }
}

/** Tensors that own their buffers (a decoded tensor is a view over its whole message), to transfer to a worker. */
function ownedCopies(tensors: readonly NamedTensor[]): NamedTensor[] {
  return tensors.map((t) => ({ ...t, data: t.data.slice() }));
}
