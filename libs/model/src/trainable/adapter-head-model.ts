// The trainable model that sits on top of the frozen backbone's features: a residual bottleneck adapter
// (Houlsby et al., ICML 2019, https://arxiv.org/abs/1902.00751) followed by a linear or one-hidden-layer
// classification head. It owns one tf.Variable per trainable tensor and is the only place that knows the
// forward pass and its backward pass (see lossAndGradients).
import * as tf from '@tensorflow/tfjs-core';
import type { ModelSpec, NamedTensor } from '@fedtl/protocol';
import { FedtlError } from '@fedtl/util';
import { checkTrainableWeights, trainableTensorSpecs } from './trainable-spec';

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

interface ForwardPass {
  /** The adapter's output (x itself without an adapter). */
  h: tf.Tensor2D;
  adapter?: { preActivation: tf.Tensor2D; activation: tf.Tensor2D };
  hidden?: { preActivation: tf.Tensor2D; activation: tf.Tensor2D };
  logits: tf.Tensor2D;
}

export class AdapterHeadModel {
  private readonly variables = new Map<string, tf.Variable>();
  private disposed = false;

  constructor(
    readonly spec: ModelSpec,
    weights: readonly NamedTensor[],
  ) {
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
    return tf.tidy(() => this.forward(x).h.clone());
  }

  /** Unnormalised class scores [n, labels] for features x [n, inputDim]. The caller disposes the result. */
  logits(x: tf.Tensor2D): tf.Tensor2D {
    this.checkAlive();
    return tf.tidy(() => this.forward(x).logits);
  }

  /**
   * The mean softmax cross-entropy of a batch, how many rows it predicts right, and the gradient of that loss
   * with respect to every trainable tensor (by name), from an explicit backward pass. The build of tfjs-core
   * that Node loads registers no gradient kernels (only the full @tensorflow/tfjs package does), so tf.grads
   * is not relied on; the model is small enough that its backward pass is a few lines. The caller disposes
   * everything returned.
   */
  lossAndGradients(x: tf.Tensor2D, labels: tf.Tensor1D): BatchGradients {
    this.checkAlive();
    return tf.tidy(() => {
      const f = this.forward(x);
      const rows = x.shape[0];
      const onehot = tf.oneHot(labels, this.spec.labels.length);
      const logProbabilities = tf.logSoftmax(f.logits);
      const loss = tf.div(tf.neg(tf.sum(tf.mul(onehot, logProbabilities))), rows) as tf.Scalar;
      const correct = tf.sum(tf.cast(tf.equal(tf.argMax(f.logits, 1), labels), 'float32')) as tf.Scalar;

      const gradients: Record<string, tf.Tensor> = {};
      const dense = (prefix: string, input: tf.Tensor2D, dOutput: tf.Tensor2D): tf.Tensor2D => {
        gradients[`${prefix}/kernel`] = tf.matMul(input, dOutput, true, false);
        gradients[`${prefix}/bias`] = tf.sum(dOutput, 0);
        return tf.matMul(dOutput, this.variable(`${prefix}/kernel`), false, true);
      };
      const dLogits = tf.div(tf.sub(tf.exp(logProbabilities), onehot), rows) as tf.Tensor2D;
      let dH: tf.Tensor2D;
      if (f.hidden) {
        const dHidden = dense('head/out', f.hidden.activation, dLogits);
        dH = dense('head/hidden', f.h, tf.mul(dHidden, tf.step(f.hidden.preActivation)) as tf.Tensor2D);
      } else {
        dH = dense('head/out', f.h, dLogits);
      }
      if (f.adapter) {
        // h = x + u: the residual passes dH to the up-projection unchanged.
        const dDown = dense('adapter/up', f.adapter.activation, dH);
        dense('adapter/down', x, tf.mul(dDown, tf.step(f.adapter.preActivation)) as tf.Tensor2D);
      }
      return { loss, correct, gradients };
    });
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

  /** The forward pass, keeping what the backward pass needs. Call inside tf.tidy. */
  private forward(x: tf.Tensor2D): ForwardPass {
    const dense = (prefix: string, input: tf.Tensor2D) =>
      tf.add(tf.matMul(input, this.variable(`${prefix}/kernel`)), this.variable(`${prefix}/bias`)) as tf.Tensor2D;
    let h = x;
    let adapter: ForwardPass['adapter'];
    if (this.spec.adapterWidth > 0) {
      const preActivation = dense('adapter/down', x);
      const activation = tf.relu(preActivation);
      adapter = { preActivation, activation };
      h = tf.add(x, dense('adapter/up', activation));
    }
    let hidden: ForwardPass['hidden'];
    let top = h;
    if (this.spec.head === 'mlp') {
      const preActivation = dense('head/hidden', h);
      top = tf.relu(preActivation);
      hidden = { preActivation, activation: top };
    }
    return { h, adapter, hidden, logits: dense('head/out', top) };
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
