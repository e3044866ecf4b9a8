// A client's local training and evaluation, run in a worker thread of its own (learner-worker.ts) so that the
// thread serving the Socket.IO connection never computes: heartbeats and acknowledgements are answered while a
// round trains for minutes, and a client is never taken for dead because it is busy. One thread per client,
// kept across rounds and runs; the private features are copied into it when it starts (and again into the thread
// that replaces one that crashed).
import * as path from 'node:path';
import type { BackendName, ProgressCallback } from '@fedtl/model';
import type { EvaluateReport, ModelSpec, NamedTensor, TensorSpec, TrainingConfig } from '@fedtl/protocol';
import { RpcWorker, createLogger, loggingSettings, transferListOf } from '@fedtl/util';
import type { LearnerData, LocalUpdate } from './learner';
import type { LearnerWorkerInfo, LearnerWorkerPayload } from './learner-worker';

// The body's extension follows this file's: .ts from sources (tsx, Jest), .js once built.
const WORKER_ENTRY = path.join(__dirname, `learner-worker${path.extname(__filename)}`);

export interface LearnerThreadOptions {
  clientId: string;
  /** The TF.js backend the thread must use; default: the best one it can initialise. */
  backend?: BackendName;
  data: LearnerData;
  localBaselineEpochs: number;
  personalizeEpochs: number;
  seed: number;
}

export type EvaluationResult = Pick<EvaluateReport, 'numExamples' | 'metrics' | 'perLabel'>;

export class LearnerThread {
  private worker?: Promise<RpcWorker<LearnerWorkerInfo>>;
  /** The model of the run in progress, replayed into a thread that replaces a crashed one. */
  private spec?: ModelSpec;
  private closed = false;
  private readonly log;

  constructor(private readonly options: LearnerThreadOptions) {
    this.log = createLogger('learner-thread').child({ clientId: options.clientId });
  }

  /**
   * Starts the thread (loading TF.js and its backend there) unless it runs already. Rejects with the thread's
   * error, e.g. FEDTL_ERR_BAD_CONFIG for a backend that cannot initialise; a later call tries again.
   */
  async ready(): Promise<LearnerWorkerInfo> {
    return (await this.running()).info;
  }

  /**
   * Starts a run: a fresh learner for `spec` (the local-only baseline and personalised head belong to a run).
   * Resolves to the tensors the model has (names, shapes, dtypes), which the run's plans and evaluation requests
   * carry. Rejects with FEDTL_ERR_UNKNOWN_LABEL when this client's data holds a label outside `spec.labels`.
   */
  async startRun(spec: ModelSpec): Promise<TensorSpec[]> {
    const tensors = await (await this.running()).call<TensorSpec[]>('startRun', spec);
    this.spec = spec;
    return tensors;
  }

  /**
   * Trains from `weights` (the round's global adapter and head) for `config.localEpochs` epochs and returns the
   * delta (local − global), in the order and with the names of `weights`. `onProgress` gets the training steps
   * taken of all (over the local epochs) a few times a second, and the last step. Rejects with the learner's
   * error code, or FEDTL_ERR_INTERNAL when the thread dies (the next call starts a new one).
   */
  async fit(weights: readonly NamedTensor[], config: TrainingConfig, onProgress?: ProgressCallback): Promise<LocalUpdate> {
    const copies = ownedCopies(weights);
    return (await this.running()).call<LocalUpdate>('fit', { weights: copies, config }, transferListOf(copies.map((t) => t.data)), onProgress);
  }

  /** Evaluates `weights` on the local test split (and the local-only and personalised models, when configured). */
  async evaluate(weights: readonly NamedTensor[]): Promise<EvaluationResult> {
    const copies = ownedCopies(weights);
    return (await this.running()).call<EvaluationResult>('evaluate', copies, transferListOf(copies.map((t) => t.data)));
  }

  /** `tf.memory().numTensors` inside the thread: tests check that rounds leave nothing behind. */
  async numTensors(): Promise<number> {
    return (await this.running()).call<number>('memory', null);
  }

  /** Stops the thread. Calls still running reject; later calls reject too. */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    await (await worker?.catch(() => undefined))?.close();
  }

  private async running(): Promise<RpcWorker<LearnerWorkerInfo>> {
    if (this.closed) throw new Error('the learner thread is closed');
    const current = this.worker ? await this.worker.catch(() => undefined) : undefined;
    if (current && !current.dead) return current;
    if (current) this.log.warn('the training thread died; starting a new one');
    const starting = this.startWorker();
    this.worker = starting;
    try {
      return await starting;
    } catch (err) {
      if (this.worker === starting) this.worker = undefined;
      throw err;
    }
  }

  private async startWorker(): Promise<RpcWorker<LearnerWorkerInfo>> {
    const { backend, data, localBaselineEpochs, personalizeEpochs, seed } = this.options;
    const payload: LearnerWorkerPayload = {
      backend,
      logging: loggingSettings(),
      data,
      localBaselineEpochs,
      personalizeEpochs,
      seed,
    };
    const worker = await RpcWorker.start<LearnerWorkerInfo, LearnerWorkerPayload>(WORKER_ENTRY, payload, { what: 'training thread' });
    this.log.debug('training thread started', { backend: worker.info.backend, threadId: worker.info.threadId });
    if (this.spec) {
      try {
        await worker.call('startRun', this.spec);
      } catch (err) {
        await worker.close();
        throw err;
      }
    }
    return worker;
  }
}

/**
 * Tensors whose data own their buffers, to transfer to the thread. A decoded tensor is usually a view over the
 * whole received message, and posting a view would clone that entire buffer once per tensor.
 */
function ownedCopies(tensors: readonly NamedTensor[]): NamedTensor[] {
  return tensors.map((t) => ({ ...t, data: t.data.slice() }));
}
