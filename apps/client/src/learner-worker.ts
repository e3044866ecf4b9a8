// The body of a client's training thread: owns the TF.js backend and the Learner (the client's private features,
// its local-only baseline and its personalised head), and answers the calls of LearnerThread. All tensor work
// of local training and evaluation happens here, off the thread that serves the connection.
import { threadId } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { firstLoraLayer, loadTrainableUseLite, selectBackend, trainableTensorSpecs, type BackendName, type LabelledEncoderStates, type TrainableUseLite } from '@fedtl/model';
import type { ModelSpec, NamedTensor, TrainingConfig } from '@fedtl/protocol';
import { FedtlError, configureLogging, createLogger, serveRpc, transferListOf, type LoggingSettings, type RpcCall } from '@fedtl/util';
import { Learner, featureExamples, labelIndices, type LearnerData, type LearnerExamples } from './learner';

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

type EncoderStates = Omit<LabelledEncoderStates, 'labels'>;

/**
 * The examples a run of `spec` trains on: the features, or with LoRA inside the backbone the frozen encoder's
 * states below the first adapted layer, computed once per layer from the texts and kept for later runs.
 */
class ExampleSource {
  private encoder?: Promise<TrainableUseLite>;
  private readonly states = new Map<number, { train: EncoderStates; test: EncoderStates }>();
  private readonly log = createLogger('learner');

  constructor(
    private readonly data: LearnerData,
    private readonly backend: BackendName,
  ) {}

  async examples(spec: ModelSpec): Promise<LearnerExamples> {
    if (!spec.lora) return featureExamples(spec, this.data);
    const { texts } = this.data;
    if (!texts) {
      throw new FedtlError('FEDTL_ERR_BAD_CONFIG', "the run trains LoRA inside the use-lite backbone, which needs this client's texts; expected --backbone use-lite with text data, got precomputed features");
    }
    const fromLayer = firstLoraLayer(spec.lora);
    let cached = this.states.get(fromLayer);
    if (!cached) {
      const started = Date.now();
      this.encoder ??= loadTrainableUseLite({ backend: this.backend });
      const encoder = await this.encoder;
      const statesOf = async (split: string[]): Promise<EncoderStates> => ({ encoder: encoder.weights, fromLayer, ...(await encoder.states(split, fromLayer)), n: split.length });
      cached = { train: await statesOf(texts.train), test: await statesOf(texts.test) };
      this.states.set(fromLayer, cached);
      this.log.info('encoder states ready', { fromLayer, texts: texts.train.length + texts.test.length, seconds: (Date.now() - started) / 1000 });
    }
    return {
      train: { ...cached.train, labels: labelIndices(spec, this.data.train.labels, 'training') },
      test: { ...cached.test, labels: labelIndices(spec, this.data.test.labels, 'test') },
    };
  }
}

serveRpc<LearnerWorkerPayload>(async (init) => {
  configureLogging(init.logging);
  const backend = await selectBackend(init.backend);
  const source = new ExampleSource(init.data, backend);
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
