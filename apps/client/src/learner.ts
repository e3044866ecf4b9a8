// What a client does with the weights it receives: train the adapter and head on its private features and
// return the delta, or evaluate. Features never leave this object; only deltas and metrics do.
//
// Differential privacy (PROTOCOL.md §7.1) is applied here, where the delta is made: a plan with a record clip
// norm trains by DP-SGD, a plan with an update clip norm has its delta clipped (and noised) before it leaves the
// thread. Either way the round's training metrics (loss, accuracy) are withheld: they are computed from the records
// without noise and the guarantee does not cover them. Evaluation and personalisation are unchanged: their
// metrics, reported to the coordinator, are not differentially private.
import { evaluate, initialWeights, trainLocally, trainLocallyDpSgd, type LabelledExamples, type LabelledFeatures, type LocalTrainingResult, type ProgressCallback, type SampledGaussianSpend } from '@fedtl/model';
import type { EvaluateReport, Metrics, ModelSpec, NamedTensor, TrainingConfig } from '@fedtl/protocol';
import { addGaussianNoiseInPlace, clipInPlace, cryptoRandomness } from '@fedtl/privacy';
import { FedtlError, createLogger } from '@fedtl/util';
import type { FeatureSplit } from './local-data';

/** A client's private features: what it trains on and what it is evaluated on. */
export interface LearnerData {
  train: FeatureSplit;
  test: FeatureSplit;
  /** The texts behind `train` and `test`, in their order, when the backbone is use-lite (LocalData.texts). */
  texts?: { train: string[]; test: string[] };
}

/** What a Learner trains and evaluates on, labels as indices into the spec's: features, or encoder states (LoRA). */
export interface LearnerExamples {
  train: LabelledExamples;
  test: LabelledExamples;
}

export interface LocalUpdate {
  delta: NamedTensor[];
  numExamples: number;
  metrics: Metrics;
  /** Record-level DP-SGD: what the round spent on each of this client's examples. Absent: no DP-SGD. */
  privacy?: SampledGaussianSpend;
  /** Client-level DP-FedAvg: the delta's L2 norm before clipping, the factor applied and the noise added. */
  clientLevel?: { normBefore: number; clipFactor: number; noiseStddev: number };
}

export class Learner {
  private readonly train: LabelledExamples;
  private readonly test: LabelledExamples;
  private localOnlyAccuracy?: number;
  /** The run's latest training config (learning rate, batch size), reused for local fine-tuning. */
  private lastConfig?: TrainingConfig;
  private readonly log = createLogger('learner');

  /** `data`: features (encodeSplit), or for a spec with LoRA the encoder states of the same examples. */
  constructor(
    readonly spec: ModelSpec,
    data: LearnerExamples,
    private readonly localBaselineEpochs: number,
    private readonly seed: number,
    private readonly personalizeEpochs = 0,
  ) {
    this.train = data.train;
    this.test = data.test;
  }

  get numTrain(): number {
    return this.train.n;
  }

  async fit(global: NamedTensor[], config: TrainingConfig, onProgress?: ProgressCallback): Promise<LocalUpdate> {
    this.lastConfig = config;
    await this.ensureLocalBaseline(config);
    const trained = await this.trainOnPlan(global, config, onProgress);
    const { privacy } = trained;
    const updateClipNorm = config.updateClipNorm ?? 0;
    if (updateClipNorm <= 0 && !privacy) return { delta: trained.delta, numExamples: trained.numExamples, metrics: trained.metrics };
    let delta = trained.delta;
    let clientLevel: LocalUpdate['clientLevel'];
    if (updateClipNorm > 0) {
      // DP-FedAvg's client step (McMahan et al., ICLR 2018): the whole delta to L2 norm ≤ S, then N(0, s²) per
      // coordinate from node:crypto. The delta is this thread's own (trained just now): changed in place.
      const noiseStddev = config.updateNoiseStddev ?? 0;
      const values = delta.map((t) => (t.data instanceof Float32Array ? t.data : Float32Array.from(t.data)));
      const clip = clipInPlace(values, updateClipNorm);
      addGaussianNoiseInPlace(values, noiseStddev, cryptoRandomness());
      delta = delta.map((t, i) => ({ ...t, dtype: 'float32', data: values[i] }));
      clientLevel = { normBefore: clip.norm, clipFactor: clip.factor, noiseStddev };
    }
    return { delta, numExamples: trained.numExamples, metrics: {}, ...(privacy ? { privacy } : {}), ...(clientLevel ? { clientLevel } : {}) };
  }

  /**
   * DP-SGD when the plan sets a record clip norm (noise and sampling from node:crypto); otherwise the plan's
   * training rule. FedProx: μ anchors every trained tensor to the plan's weights (absent: 0, plain FedAvg
   * training). Per-FedAvg: α makes every local step a first-order meta-learning step (absent: 0, ordinary steps).
   */
  private trainOnPlan(global: NamedTensor[], config: TrainingConfig, onProgress?: ProgressCallback): Promise<LocalTrainingResult & { privacy?: SampledGaussianSpend }> {
    const recordClipNorm = config.recordClipNorm ?? 0;
    if (recordClipNorm > 0) {
      return trainLocallyDpSgd(this.spec, global, this.train, config, { clipNorm: recordClipNorm, noiseMultiplier: config.recordNoiseMultiplier ?? 0, onProgress });
    }
    return trainLocally(this.spec, global, this.train, config, {
      proximalMu: config.proximalMu ?? 0,
      metaInnerLearningRate: config.metaInnerLearningRate ?? 0,
      onProgress,
    });
  }

  async evaluate(weights: NamedTensor[]): Promise<Pick<EvaluateReport, 'numExamples' | 'metrics' | 'perLabel'>> {
    const report = await evaluate(this.spec, weights, this.test);
    const metrics: Metrics = { ...report.metrics };
    if (this.localOnlyAccuracy !== undefined) metrics.localOnlyAccuracy = this.localOnlyAccuracy;
    if (this.personalizeEpochs > 0 && this.lastConfig) {
      const personalized = await this.personalize(weights, this.lastConfig);
      metrics.personalizedAccuracy = personalized.metrics.accuracy;
      metrics.personalizedMacroF1 = personalized.metrics.macroF1;
    }
    return { numExamples: report.numExamples, metrics, perLabel: report.perLabel };
  }

  /**
   * FedRep-style personalisation: keep the federation's adapter, fine-tune a private copy of the head on local
   * data. The personalised head never leaves this client.
   */
  private async personalize(global: NamedTensor[], config: TrainingConfig) {
    const tuned = await trainLocally(this.spec, global, this.train, { ...config, localEpochs: this.personalizeEpochs, seed: this.seed }, {
      trainable: (name) => name.startsWith('head/'),
    });
    return evaluate(this.spec, global.map((t, i) => addDelta(t, tuned.delta[i])), this.test);
  }

  /** Once, on the first plan (which carries the run's learning rate and batch size): a model trained alone. */
  private async ensureLocalBaseline(config: TrainingConfig): Promise<void> {
    if (this.localBaselineEpochs === 0 || this.localOnlyAccuracy !== undefined) return;
    const start = initialWeights(this.spec, this.seed);
    const local = await trainLocally(this.spec, start, this.train, { ...config, localEpochs: this.localBaselineEpochs, seed: this.seed });
    const weights = start.map((t, i) => addDelta(t, local.delta[i]));
    const report = await evaluate(this.spec, weights, this.test);
    this.localOnlyAccuracy = report.metrics.accuracy;
    this.log.info('local-only baseline trained', { epochs: this.localBaselineEpochs, accuracy: this.localOnlyAccuracy });
  }
}

/**
 * `data`'s features with labels as indices into `spec.labels`: what a Learner of a spec without LoRA takes.
 * @throws FedtlError FEDTL_ERR_UNKNOWN_LABEL naming the first label outside the federation's label set.
 */
export function featureExamples(spec: ModelSpec, data: LearnerData): LearnerExamples {
  return { train: encodeSplit(spec, data.train, 'training'), test: encodeSplit(spec, data.test, 'test') };
}

function addDelta(base: NamedTensor, delta: NamedTensor): NamedTensor {
  const data = new Float32Array(base.data.length);
  for (let i = 0; i < data.length; i++) data[i] = base.data[i] + delta.data[i];
  return { ...base, data };
}

/**
 * A split's features with its labels as indices into `spec.labels`.
 * @throws FedtlError FEDTL_ERR_UNKNOWN_LABEL naming the first label outside the federation's label set.
 */
export function encodeSplit(spec: ModelSpec, split: FeatureSplit, what: string): LabelledFeatures {
  return { features: split.features, labels: labelIndices(spec, split.labels, what), n: split.labels.length };
}

/**
 * Each label's index in `spec.labels`.
 * @throws FedtlError FEDTL_ERR_UNKNOWN_LABEL naming the first label outside the federation's label set.
 */
export function labelIndices(spec: ModelSpec, names: readonly string[], what: string): Int32Array {
  const labels = new Int32Array(names.length);
  names.forEach((label, i) => {
    const index = spec.labels.indexOf(label);
    if (index < 0) {
      throw new FedtlError('FEDTL_ERR_UNKNOWN_LABEL', `${what} label "${label}" is not in the federation's label set ${JSON.stringify(spec.labels)}`);
    }
    labels[i] = index;
  });
  return labels;
}
