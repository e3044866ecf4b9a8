// The examples a client's Learner trains and evaluates on, from its private data: the backbone features, or for
// a run with LoRA inside use-lite the frozen encoder's states below the first adapted layer, computed from the
// texts once per layer and kept for later runs. The texts and states never leave the process.
import { firstLoraLayer, loadTrainableUseLite, type BackendName, type LabelledEncoderStates, type TrainableUseLite } from '@fedtl/model';
import type { ModelSpec } from '@fedtl/protocol';
import { FedtlError, createLogger } from '@fedtl/util';
import { featureExamples, labelIndices, type LearnerData, type LearnerExamples } from './learner';

type EncoderStates = Omit<LabelledEncoderStates, 'labels'>;

/**
 * The examples a run of `spec` trains on: the features, or with LoRA inside the backbone the frozen encoder's
 * states below the first adapted layer, computed once per layer from the texts and kept for later runs.
 */
export class LearnerExampleSource {
  private encoder?: Promise<TrainableUseLite>;
  private readonly states = new Map<number, { train: EncoderStates; test: EncoderStates }>();
  private readonly log = createLogger('learner');

  constructor(
    private readonly data: LearnerData,
    private readonly backend: BackendName,
  ) {}

  /**
   * @throws FedtlError FEDTL_ERR_BAD_CONFIG for a spec with LoRA on data without texts (precomputed features);
   *   FEDTL_ERR_UNKNOWN_LABEL for a label outside the spec's.
   */
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
      const bytes = [cached.train, cached.test].reduce((sum, split) => sum + split.states.reduce((n, states) => n + states.byteLength, 0), 0);
      this.log.info('encoder states ready', { fromLayer, texts: texts.train.length + texts.test.length, MiB: Math.round(bytes / 2 ** 20), seconds: (Date.now() - started) / 1000 });
    }
    return {
      train: { ...cached.train, labels: labelIndices(spec, this.data.train.labels, 'training') },
      test: { ...cached.test, labels: labelIndices(spec, this.data.test.labels, 'test') },
    };
  }

  /** Frees the encoder's weights, if one was loaded; the source is unusable afterwards. */
  async dispose(): Promise<void> {
    (await this.encoder?.catch(() => undefined))?.dispose();
    this.states.clear();
  }
}
