// The body of one training worker of the simulation (training-pool.ts starts one per core). It holds ONE
// adapter+head model and trains every virtual client's job in it, one after the other, with the real client's
// local-training code (trainLocally, as learner.ts calls it); the features are the shared table's rows, read in
// place. It also evaluates a round's global model on the held-out test table.
import { threadId } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { AdapterHeadModel, evaluate, selectBackend, trainLocally, type BackendName, type EvaluationResult } from '@fedtl/model';
import type { Metrics, ModelSpec, NamedTensor, TrainingConfig } from '@fedtl/protocol';
import { FedtlError, configureLogging, serveRpc, transferListOf, type LoggingSettings } from '@fedtl/util';
import { rowsOf, type RowRange, type SharedFeatureTable } from './shared-features';

export interface SimulationWorkerPayload {
  /** The backend to insist on (undefined: the best one this thread can initialise). */
  backend?: BackendName;
  logging: LoggingSettings;
  /** Every virtual client's training rows (shared memory: not copied into the thread). */
  train: SharedFeatureTable;
  /** The held-out test rows the global model is scored on; absent: no evaluation. */
  test?: SharedFeatureTable;
}

export interface SimulationWorkerInfo {
  backend: BackendName;
  threadId: number;
}

/** One client's local training: the plan's weights and config (its seed already the client's), and its rows. */
export interface TrainingJob {
  spec: ModelSpec;
  weights: NamedTensor[];
  config: TrainingConfig;
  rows: RowRange;
}

export interface TrainedUpdate {
  /** local − global, in the order and with the names of the job's weights. */
  delta: NamedTensor[];
  numExamples: number;
  /** The last epoch's training loss and accuracy, and the training's wall seconds in this thread. */
  metrics: Metrics;
}

serveRpc<SimulationWorkerPayload>(async (init) => {
  configureLogging(init.logging);
  const backend = await selectBackend(init.backend);
  let model: AdapterHeadModel | undefined;
  /** The worker's one model, made anew only when a job comes with another model spec (another run). */
  const modelFor = (spec: ModelSpec, weights: NamedTensor[]): AdapterHeadModel => {
    if (model && JSON.stringify(model.spec) === JSON.stringify(spec)) return model;
    model?.dispose();
    model = new AdapterHeadModel(spec, weights);
    return model;
  };
  const info: SimulationWorkerInfo = { backend, threadId };
  return {
    info,
    methods: {
      train: async (job: TrainingJob) => {
        if ((job.config.recordClipNorm ?? 0) > 0 || (job.config.updateClipNorm ?? 0) > 0) {
          throw new FedtlError('FEDTL_ERR_BAD_CONFIG', 'the simulation trains without differential privacy: expected a plan without a record or update clip norm');
        }
        const trained = await trainLocally(job.spec, job.weights, rowsOf(init.train, job.rows), job.config, {
          proximalMu: job.config.proximalMu ?? 0,
          metaInnerLearningRate: job.config.metaInnerLearningRate ?? 0,
          model: modelFor(job.spec, job.weights),
        });
        const update: TrainedUpdate = { delta: trained.delta, numExamples: trained.numExamples, metrics: trained.metrics };
        return { result: update, transfer: transferListOf(update.delta.map((t) => t.data)) };
      },
      evaluate: async ({ spec, weights }: { spec: ModelSpec; weights: NamedTensor[] }) => {
        if (!init.test) throw new FedtlError('FEDTL_ERR_BAD_CONFIG', 'expected a test table to evaluate on; the pool was started without one');
        const result: EvaluationResult = await evaluate(spec, weights, rowsOf(init.test, { offset: 0, count: init.test.rows }));
        return { result };
      },
      /** `tf.memory().numTensors` with the one model alive: tests check that it does not grow with jobs. */
      memory: () => ({ result: tf.memory().numTensors }),
    },
  };
});
