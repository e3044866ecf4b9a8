// The trainable model that sits on top of the frozen backbone's features: a residual bottleneck adapter
// (Houlsby et al., ICML 2019, https://arxiv.org/abs/1902.00751) followed by a linear or one-hidden-layer
// classification head. It owns one tf.Variable per trainable tensor and is the only place that knows the
// forward pass; gradients come from TF.js automatic differentiation (see lossAndGradients).
//
// With `spec.lora` the model also owns LoRA pairs inside the use-lite encoder: its input is then the frozen
// encoder's states entering the first adapted layer, and its features are computed by the rest of the encoder
// with the pairs merged in (use-lite-lora.ts) before the adapter and head.
import * as tf from '@tensorflow/tfjs-core';
import type { ModelSpec, NamedTensor } from '@fedtl/protocol';
import { FedtlError } from '@fedtl/util';
import { encodeUseLiteFrom } from '../backbone/use-lite-encoder';
import { withLora } from '../backbone/use-lite-lora';
import type { UseLiteWeights } from '../backbone/use-lite-weights';
import { meanCrossEntropy } from './cross-entropy';
import type { EncoderStatesBatch } from './encoder-states';
import './gradient-registry';
import { firstLoraLayer } from './lora-spec';
import { checkTrainableWeights, trainableTensorSpecs } from './trainable-spec';

/** What the model reads: backbone features [n, inputDim], or (with LoRA) the frozen encoder's states. */
export type ModelInput = tf.Tensor2D | EncoderStatesBatch;

function isStatesBatch(input: ModelInput): input is EncoderStatesBatch {
  return !(input instanceof tf.Tensor);
}

/** Rows per forward pass in `predict`, so memory stays bounded on large inputs. */
const PREDICT_CHUNK_ROWS = 8192;

// A type alias (not an interface) so that it is a tf.TensorContainer and can leave a tf.tidy or go to tf.dispose.
export type BatchGradients = {
  /** Mean softmax cross-entropy over the batch. */
  loss: tf.Scalar;
  /** Rows whose argmax matches the label. */
  correct: tf.Scalar;
  /** d loss / d tensor, by trainable tensor name. */
  gradients: Record<string, tf.Tensor>;
};

export class AdapterHeadModel {
  private readonly variables = new Map<string, tf.Variable>();
  private disposed = false;

  /**
   * @param encoder the packaged use-lite weights (frozen, not owned) that a spec with LoRA adapts; needed then,
   *   ignored otherwise.
   * @throws FedtlError as checkTrainableWeights; FEDTL_ERR_BAD_CONFIG for a spec with LoRA and no encoder.
   */
  constructor(
    readonly spec: ModelSpec,
    weights: readonly NamedTensor[],
    private readonly encoder?: UseLiteWeights,
  ) {
    if (spec.lora && !encoder) {
      throw new FedtlError('FEDTL_ERR_BAD_CONFIG', 'a model with LoRA inside the backbone needs the use-lite encoder weights; got none');
    }
    const ordered = checkTrainableWeights(spec, weights);
    for (const tensor of ordered) {
      // Inside tidy so the initial-value tensor is released; tidy never disposes a variable.
      const variable = tf.tidy(() => tf.variable(tf.tensor(tensor.data, tensor.shape, 'float32'), true));
      this.variables.set(tensor.name, variable);
    }
  }

  /** The variables in spec order (adapter, then head); owned by the model, never dispose them. */
  get trainableVariables(): tf.Variable[] {
    this.checkAlive();
    return [...this.variables.values()];
  }

  /** Replaces every trainable tensor; the weights are checked in full before any variable changes. */
  setWeights(weights: readonly NamedTensor[]): void {
    this.checkAlive();
    const ordered = checkTrainableWeights(this.spec, weights);
    tf.tidy(() => {
      for (const tensor of ordered) {
        this.variable(tensor.name).assign(tf.tensor(tensor.data, tensor.shape, 'float32'));
      }
    });
  }

  /** Copies of the current weights, in spec order, as plain typed arrays. */
  getWeights(): NamedTensor[] {
    this.checkAlive();
    return trainableTensorSpecs(this.spec).map(({ name, shape, dtype }) => ({
      name,
      shape: shape.slice(),
      dtype,
      // dataSync may hand back the backend's own buffer; copy so the caller can never alias a variable.
      data: new Float32Array(this.variable(name).dataSync() as Float32Array),
    }));
  }

  /** The adapter's output h = x + relu(x·Wd + bd)·Wu + bu, or x itself when the spec has no adapter. */
  adapt(x: tf.Tensor2D): tf.Tensor2D {
    this.checkAlive();
    return tf.tidy(() => this.adapted(x).clone());
  }

  /**
   * The features [n, inputDim] the adapter reads: `input` itself when it is features, else the encoder's output
   * from the states with the current LoRA pairs merged in. The caller disposes the result.
   */
  features(input: ModelInput): tf.Tensor2D {
    this.checkAlive();
    return tf.tidy(() => this.featuresOf(input).clone());
  }

  /** Unnormalised class scores [n, labels] for `input`. The caller disposes the result. */
  logits(x: ModelInput): tf.Tensor2D {
    this.checkAlive();
    return this.forward(x);
  }

  /**
   * The mean softmax cross-entropy of a batch (x [n, inputDim], labels [n] as indices into `spec.labels`), how
   * many rows it predicts right, and the gradient of that loss with respect to every trainable tensor (by name),
   * from TF.js automatic differentiation (`tf.variableGrads`; gradients registered by ./gradient-registry). It
   * may run inside an outer gradient: the leakage audit differentiates these gradients again with respect to x.
   * The caller disposes everything returned. With `trains`, only the tensors it accepts get a gradient, and the
   * backward pass stops where nothing below needs one (a head-only step never goes back through the encoder).
   */
  lossAndGradients(x: ModelInput, labels: tf.Tensor1D, trains: (name: string) => boolean = () => true): BatchGradients {
    this.checkAlive();
    let keptCorrect: tf.Scalar | undefined;
    try {
      const differentiated = [...this.variables].filter(([name]) => trains(name));
      if (differentiated.length === 0) {
        // Nothing trains (tf.variableGrads refuses an empty list): the loss and count, no gradients.
        return tf.tidy(() => {
          const logits = this.forward(x);
          const correct = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'float32')) as tf.Scalar;
          return { loss: meanCrossEntropy(logits, labels, this.spec.labels.length), correct, gradients: {} };
        });
      }
      const { value: loss, grads } = tf.variableGrads(() => {
        const logits = this.forward(x);
        // variableGrads disposes whatever its function made except the loss, so the count is kept past it ...
        keptCorrect = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'float32')) as tf.Scalar);
        return meanCrossEntropy(logits, labels, this.spec.labels.length);
      }, differentiated.map(([, variable]) => variable));
      const gradients: Record<string, tf.Tensor> = {};
      for (const [name, variable] of differentiated) gradients[name] = grads[variable.name];
      // ... and handed back as a copy in the caller's scope, so an enclosing tf.tidy releases it like the rest.
      return { loss, correct: tf.clone(keptCorrect as tf.Scalar), gradients };
    } finally {
      keptCorrect?.dispose();
    }
  }

  /** The predicted label index of each of the n rows of `features` (row-major, n × inputDim). */
  async predict(features: Float32Array, n: number): Promise<Int32Array> {
    this.checkAlive();
    checkFeatures(this.spec, features, n);
    const out = new Int32Array(n);
    const d = this.spec.inputDim;
    for (let start = 0; start < n; start += PREDICT_CHUNK_ROWS) {
      const rows = Math.min(PREDICT_CHUNK_ROWS, n - start);
      const predicted = tf.tidy(() => {
        const x = tf.tensor2d(features.subarray(start * d, (start + rows) * d), [rows, d]);
        return tf.argMax(this.logits(x), 1);
      });
      try {
        out.set(await predicted.data(), start);
      } finally {
        predicted.dispose();
      }
    }
    return out;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const variable of this.variables.values()) variable.dispose();
    this.variables.clear();
  }

  /** The forward pass: logits [n, labels] for `x`. Call inside tf.tidy (or a gradient function). */
  private forward(x: ModelInput): tf.Tensor2D {
    return tf.tidy(() => this.logitsOf(this.adapted(this.featuresOf(x))));
  }

  private featuresOf(input: ModelInput): tf.Tensor2D {
    if (!isStatesBatch(input)) return input;
    const { lora } = this.spec;
    if (!lora || !this.encoder) throw new FedtlError('FEDTL_ERR_BAD_CONFIG', 'expected features for a model without LoRA, got encoder states');
    const adapted = withLora(this.encoder, lora, (name) => this.variables.get(name));
    if (input.fromLayer > firstLoraLayer(lora)) throw new FedtlError('FEDTL_ERR_BAD_DATA', `expected encoder states entering layer ${firstLoraLayer(lora)} or below (the first with LoRA), got states entering layer ${input.fromLayer}`);
    return encodeUseLiteFrom(adapted, input, input.fromLayer);
  }

  /** h = x + relu(x·Wd + bd)·Wu + bu, or x itself without an adapter. */
  private adapted(x: tf.Tensor2D): tf.Tensor2D {
    if (this.spec.adapterWidth === 0) return x;
    return tf.add(x, this.dense('adapter/up', tf.relu(this.dense('adapter/down', x))));
  }

  /** The head: linear, or one ReLU hidden layer then linear. */
  private logitsOf(h: tf.Tensor2D): tf.Tensor2D {
    const top = this.spec.head === 'mlp' ? tf.relu(this.dense('head/hidden', h)) : h;
    return this.dense('head/out', top);
  }

  private dense(prefix: string, input: tf.Tensor2D): tf.Tensor2D {
    return tf.add(tf.matMul(input, this.variable(`${prefix}/kernel`)), this.variable(`${prefix}/bias`));
  }

  private variable(name: string): tf.Variable {
    const variable = this.variables.get(name);
    if (!variable) throw new Error(`AdapterHeadModel: no variable "${name}" for this spec`);
    return variable;
  }

  private checkAlive(): void {
    if (this.disposed) throw new Error('AdapterHeadModel: used after dispose()');
  }
}

/** Checks that `features` holds n rows of the spec's input width. */
export function checkFeatures(spec: ModelSpec, features: Float32Array, n: number): void {
  if (!Number.isInteger(n) || n < 0 || features.length !== n * spec.inputDim) {
    throw new FedtlError(
      'FEDTL_ERR_BAD_DATA',
      `expected ${n} rows of ${spec.inputDim} features (${n * spec.inputDim} values), got ${features.length} values`,
      { n, inputDim: spec.inputDim, length: features.length },
    );
  }
}
