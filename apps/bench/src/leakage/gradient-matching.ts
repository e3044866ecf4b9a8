// Attack (b): gradient matching by optimisation.
//
// Zhu, Liu, Han, "Deep Leakage from Gradients", NeurIPS 2019 (https://arxiv.org/abs/1906.08935): optimise dummy
// inputs until the gradient they produce matches the observed one. Geiping, Bauermeister, Dröge, Moeller,
// "Inverting Gradients — How easy is it to break privacy in federated learning?", NeurIPS 2020
// (https://arxiv.org/abs/2003.14053): use a cosine distance (scale-free, so a delta −lr·g or an Adam step,
// whose scale differs from g, can still be matched) and Adam on the dummies. Labels are not optimised: as in
// iDLG (Zhao, Mopuri, Bilen 2020, https://arxiv.org/abs/2001.02610), the true label of one example is the one
// whose head bias moved up (its error p − 1 is the only negative one); several dummies take the labels in the
// order of their bias deltas, in turn.
//
// The dummies' gradient comes from the project's own model (AdapterHeadModel.lossAndGradients, the gradients a
// client trains with), at the global weights the coordinator sent; the gradient of the matching loss with respect
// to the dummies is TF.js autodiff through those gradients (a second-order gradient; @fedtl/model registers TF.js's
// gradients). The client's several local steps are not unrolled: one gradient at the global weights stands for
// the whole update.
import * as tf from '@tensorflow/tfjs-core';
import { AdapterHeadModel } from '@fedtl/model';
import { seededRandom } from '@fedtl/util';
import type { AttackResult, LeakageAttack } from './leakage-attack';
import { tensorOf, type ObservedUpdate } from './observed-update';

export interface GradientMatchingOptions {
  /** Adam steps on the dummies (bounded: this is the attack's whole cost). */
  iterations: number;
  /** Adam's learning rate on the dummies. */
  learningRate: number;
  /** Most dummies for a multi-example update (one per declared example up to this). */
  maxDummies: number;
  /** Seed of the dummies' random start. */
  seed: number;
}

/** Labels for `count` dummies: label indices by head bias delta, largest first, in turn. */
export function dummyLabels(observed: ObservedUpdate, count: number): Int32Array {
  const bias = tensorOf(observed.delta, 'head/out/bias').data;
  const order = Array.from(bias, (value, label) => ({ value: Number.isFinite(value) ? value : 0, label })).sort((a, b) => b.value - a.value || a.label - b.label);
  return Int32Array.from({ length: count }, (_, i) => order[i % order.length].label);
}

/**
 * The attack. Throws RangeError for options out of range. Leaves no tensors behind (every tensor it makes is
 * disposed before `recover` resolves).
 */
export function gradientMatchingAttack(options: GradientMatchingOptions): LeakageAttack {
  const { iterations, learningRate, maxDummies, seed } = options;
  if (!Number.isInteger(iterations) || iterations < 1) throw new RangeError(`gradient matching: iterations must be an integer ≥ 1, got ${iterations}`);
  if (!(learningRate > 0)) throw new RangeError(`gradient matching: learningRate must be > 0, got ${learningRate}`);
  if (!Number.isInteger(maxDummies) || maxDummies < 1) throw new RangeError(`gradient matching: maxDummies must be an integer ≥ 1, got ${maxDummies}`);
  return {
    name: 'matching',
    title: `gradient matching, cosine loss, ${iterations} Adam steps (Zhu et al. 2019; Geiping et al. 2020)`,
    async recover(observed: ObservedUpdate): Promise<AttackResult> {
      const dim = observed.spec.inputDim;
      const count = Math.max(1, Math.min(maxDummies, observed.numExamples));
      // Tensors that did not move carry nothing to match (and a zero norm has no direction).
      const targets = observed.delta.filter((t) => {
        let norm = 0;
        for (const value of t.data) norm += value * value;
        return norm > 0 && Number.isFinite(norm);
      });
      const random = seededRandom(seed);
      const start = new Float32Array(count * dim);
      // Gaussian start of norm ≈ 1 (Box–Muller), the scale of use-lite's sentence vectors.
      for (let i = 0; i < start.length; i++) start[i] = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random()) / Math.sqrt(dim);
      const model = new AdapterHeadModel(observed.spec, observed.global);
      const labels = tf.tensor1d(dummyLabels(observed, count), 'int32');
      const observedTensors = targets.map((t) => ({ name: t.name, value: tf.tensor1d(Float32Array.from(t.data)) }));
      // Inside tidy so the initial-value tensor is released; tidy never disposes a variable.
      const dummies = tf.tidy(() => tf.variable(tf.tensor2d(start, [count, dim]), true));
      const optimizer = tf.train.adam(learningRate);
      let finalLoss = NaN;
      try {
        for (let step = 0; step < iterations && observedTensors.length > 0; step++) {
          const last = step === iterations - 1;
          const cost = optimizer.minimize(() => {
            const { gradients } = model.lossAndGradients(dummies as unknown as tf.Tensor2D, labels);
            let total = tf.scalar(0);
            for (const { name, value } of observedTensors) {
              const g = tf.reshape(gradients[name], [-1]);
              // The delta points along −g: minimise 1 + cos(g, Δ).
              // √(Σg² + ε), not tf.norm: a tensor whose dummy gradient is exactly zero (the adapter's down-projection
              // while its up-projection is zero) would give 0/0 in the norm's gradient.
              const norm = tf.sqrt(tf.add(tf.sum(tf.square(g)), 1e-30));
              const cosine = tf.div(tf.sum(tf.mul(g, value)), tf.mul(norm, tf.norm(value)));
              total = tf.add(total, tf.add(1, cosine));
            }
            return tf.div(total, observedTensors.length) as tf.Scalar;
          }, last, [dummies]);
          if (cost) {
            finalLoss = (await cost.data())[0];
            cost.dispose();
          }
          if (step % 10 === 9) await new Promise((resolve) => setImmediate(resolve));
        }
        const data = (await dummies.data()) as Float32Array;
        const vectors = Array.from({ length: count }, (_, i) => data.slice(i * dim, (i + 1) * dim));
        return { vectors, detail: { dummies: count, iterations, matchedTensors: observedTensors.length, finalLoss } };
      } finally {
        model.dispose();
        optimizer.dispose();
        labels.dispose();
        dummies.dispose();
        for (const { value } of observedTensors) value.dispose();
      }
    },
  };
}
