// The body of a client's training thread: owns the TF.js backend and the Learner (the client's private features,
// its local-only baseline and its personalised head), and answers the calls of LearnerThread. All tensor work
// of local training and evaluation happens here, off the thread that serves the connection.
import { threadId } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend, trainableTensorSpecs, type BackendName } from '@fedtl/model';
import type { ModelSpec, NamedTensor, TrainingConfig } from '@fedtl/protocol';
import { FedtlError, configureLogging, serveRpc, transferListOf, type LoggingSettings, type RpcCall } from '@fedtl/util';
import { Learner, type LearnerData } from './learner';
import { LearnerExampleSource } from './learner-examples';

export interface LearnerWorkerPayload {
  /** The backend to insist on (undefined: the best one this thread can initialise). */
  backend?: BackendName;
  /** The parent's loggingSettings(): level, format, and its context's fields (the clientId). */
  logging: LoggingSettings;
  data: LearnerData;
  localBaselineEpochs: number;
  personalizeEpochs: number;
  seed: number;
}

export interface LearnerWorkerInfo {
  backend: BackendName;
  threadId: number;
}

serveRpc<LearnerWorkerPayload>(async (init) => {
  configureLogging(init.logging);
  const backend = await selectBackend(init.backend);
  const source = new LearnerExampleSource(init.data, backend);
  let learner: Learner | undefined;
  const joined = (): Learner => {
    if (!learner) throw new FedtlError('FEDTL_ERR_NOT_JOINED', 'expected a run to be started (a Welcome) before training or evaluation');
    return learner;
  };
  const info: LearnerWorkerInfo = { backend, threadId };
  return {
    info,
    methods: {
      /** A new run (a Welcome with another run id): a fresh learner for its model, baseline and head included. */
      /** Returns the tensors the run's model has (names, shapes, dtypes): what the run's plans carry. */
      startRun: async (spec: ModelSpec) => {
        const tensors = trainableTensorSpecs(spec);
        learner = new Learner(spec, await source.examples(spec), init.localBaselineEpochs, init.seed, init.personalizeEpochs);
        return { result: tensors };
      },
      /** Reports its steps (done, total over all local epochs) as the call's progress, a few times a second. */
      fit: async ({ weights, config }: { weights: NamedTensor[]; config: TrainingConfig }, call: RpcCall) => {
        const update = await joined().fit(weights, config, (done, total) => call.progress(done, total));
        return { result: update, transfer: transferListOf(update.delta.map((t) => t.data)) };
      },
      evaluate: async (weights: NamedTensor[]) => ({ result: await joined().evaluate(weights) }),
      memory: () => ({ result: tf.memory().numTensors }),
    },
  };
});
