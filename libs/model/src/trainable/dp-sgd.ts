// Record-level differentially private local training: DP-SGD (Abadi, Chu, Goodfellow, McMahan, Mironov, Talwar,
// Zhang, "Deep Learning with Differential Privacy", CCS 2016, https://arxiv.org/abs/1607.00133, Algorithm 1), with
// Poisson sampling so that the RDP accountant of the sampled Gaussian mechanism applies exactly (@fedtl/privacy's
// sampledGaussianRdp; Mironov, Talwar, Zhang 2019).
//
// Every step: each of the client's n records joins the batch independently with probability q = batchSize / n;
// each sampled record's gradient (over every trainable tensor together) is clipped to L2 norm C; the clipped
// gradients are summed, Gaussian noise N(0, σ²C²) is added to every coordinate, and the sum is divided by the
// expected batch size q·n (the estimator of Opacus and TF Privacy, whose sensitivity does not depend on the batch
// drawn). The plan's optimiser then takes the step. An epoch is round(1/q) steps.
//
// The sampling and the noise must be secret from whoever sees the update: they come from the operating system's
// cryptographic generator (node:crypto), never from the plan's seed, which the coordinator chose. Tests inject
// their own source (@fedtl/privacy's cryptoRandomness is the default). Known limit: noise is drawn as float64 Gaussians by Box–Muller and added in float32, not by a
// floating-point-safe sampler (Mironov, CCS 2012; the discrete Gaussian of Canonne, Kamath, Steinke 2020).
import * as tf from '@tensorflow/tfjs-core';
import type { ModelSpec, NamedTensor, TrainingConfig } from '@fedtl/protocol';
import { cryptoRandomness, type DpRandomness } from '@fedtl/privacy';
import { FedtlError, describeValue } from '@fedtl/util';
import type { ProgressCallback } from '../progress-callback';
import { AdapterHeadModel } from './adapter-head-model';
import { divergedError, firstNonFinite } from './divergence';
import { checkLabelledFeatures, checkTrainingConfig, createOptimizer, deltaFrom, isEncoderStates, type LabelledExamples, type LocalTrainingResult } from './local-training';
import { checkTrainableWeights } from './trainable-spec';

export interface DpSgdOptions {
  /** C > 0: the L2 bound of one record's gradient over all trainable tensors together. */
  clipNorm: number;
  /** σ ≥ 0: the noise's standard deviation over C (0: clipping without noise, no privacy). */
  noiseMultiplier: number;
  /** Default: cryptoRandomness(). Tests only may pass a seeded source. */
  randomness?: DpRandomness;
  /** Called after every step with (steps taken, all steps of the localEpochs), e.g. to show a progress bar. */
  onProgress?: ProgressCallback;
}

/** What one local training spent, as the accountant composes it. */
export interface SampledGaussianSpend {
  mechanism: 'poisson-sampled-gaussian';
  samplingRate: number;
  noiseMultiplier: number;
  steps: number;
}

export interface DpSgdResult extends LocalTrainingResult {
  privacy: SampledGaussianSpend;
}

/** Steps of one epoch: round(1/q), at least 1. */
export function dpStepsPerEpoch(samplingRate: number): number {
  return Math.max(1, Math.round(1 / samplingRate));
}

/**
 * What DP-SGD on `n` records under `config` spends, known before training: q = min(1, batchSize / n) and
 * localEpochs · round(1/q) steps of σ = `noiseMultiplier`. A client checks its budget with it before a plan.
 */
export function dpSgdSpend(config: Pick<TrainingConfig, 'batchSize' | 'localEpochs'>, n: number, noiseMultiplier: number): SampledGaussianSpend {
  const samplingRate = Math.min(1, config.batchSize / n);
  return { mechanism: 'poisson-sampled-gaussian', samplingRate, noiseMultiplier, steps: config.localEpochs * dpStepsPerEpoch(samplingRate) };
}

/**
 * Trains `global` on `data` with DP-SGD for `config.localEpochs` epochs and returns the delta, as trainLocally does,
 * plus what it spent. `config.batchSize` is the expected batch size (q = min(1, batchSize / n)). The returned
 * metrics (loss, accuracy of the sampled batches) are computed from the records without noise: they are not
 * covered by the guarantee and must not leave the client as they are.
 * @throws FedtlError FEDTL_ERR_BAD_CONFIG for a clip norm that is not positive and finite or a negative noise
 *   multiplier, as trainLocally for the config, data and weights, and FEDTL_ERR_DIVERGED when training diverges.
 */
export async function trainLocallyDpSgd(spec: ModelSpec, global: readonly NamedTensor[], data: LabelledExamples, config: TrainingConfig, dp: DpSgdOptions): Promise<DpSgdResult> {
  if (!(dp.clipNorm > 0) || !Number.isFinite(dp.clipNorm)) throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `DP-SGD: clipNorm must be positive and finite, got ${describeValue(dp.clipNorm)}`, { field: 'clipNorm' });
  if (!(dp.noiseMultiplier >= 0) || !Number.isFinite(dp.noiseMultiplier)) {
    throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `DP-SGD: noiseMultiplier must be finite and ≥ 0, got ${describeValue(dp.noiseMultiplier)}`, { field: 'noiseMultiplier' });
  }
  if (spec.lora || isEncoderStates(data)) {
    // Per-example gradients through the encoder cost a forward and backward pass per record; not built yet.
    throw new FedtlError('FEDTL_ERR_BAD_CONFIG', 'DP-SGD (a record clip norm) with LoRA inside the backbone is not supported; use client-level DP (an update clip norm) or the frozen backbone', { field: 'recordClipNorm' });
  }
  checkTrainingConfig(config);
  checkLabelledFeatures(spec, data, 1);
  const ordered = checkTrainableWeights(spec, global);
  const randomness = dp.randomness ?? cryptoRandomness();
  const started = performance.now();
  const { n } = data;
  const spend = dpSgdSpend(config, n, dp.noiseMultiplier);
  const { samplingRate, steps } = spend;
  const expectedBatch = samplingRate * n;
  const noiseStd = dp.noiseMultiplier * dp.clipNorm;

  const model = new AdapterHeadModel(spec, ordered);
  const optimizer = createOptimizer(config);
  const xAll = tf.tensor2d(data.features, [n, spec.inputDim]);
  const yAll = tf.tensor1d(data.labels, 'int32');
  const names = ordered.map((t) => t.name);
  let lossSum = 0;
  let correctSum = 0;
  let measured = 0;
  try {
    const variables = model.trainableVariables;
    const lastEpochFrom = steps - dpStepsPerEpoch(samplingRate);
    for (let step = 0; step < steps; step++) {
      const rows: number[] = [];
      for (let i = 0; i < n; i++) if (randomness.uniform() < samplingRate) rows.push(i);
      const noise = noiseStd > 0 ? names.map((_, t) => randomness.gaussian(ordered[t].data.length)) : [];
      const outcome = tf.tidy(() => {
        let sums = ordered.map((t) => tf.zeros(t.shape));
        let loss = tf.scalar(0);
        let correct = tf.scalar(0);
        for (const row of rows) {
          const index = tf.tensor1d([row], 'int32');
          const one = model.lossAndGradients(tf.gather(xAll, index) as tf.Tensor2D, tf.gather(yAll, index) as tf.Tensor1D);
          // One record's gradient, all tensors together, scaled into the ball of radius C.
          const norm = tf.sqrt(tf.addN(names.map((name) => tf.sum(tf.square(one.gradients[name])))));
          const scale = tf.minimum(1, tf.div(dp.clipNorm, tf.maximum(norm, 1e-12)));
          sums = sums.map((sum, t) => tf.add(sum, tf.mul(one.gradients[names[t]], scale)));
          loss = tf.add(loss, one.loss);
          correct = tf.add(correct, one.correct);
        }
        const byVariable: tf.NamedTensorMap = {};
        sums.forEach((sum, t) => {
          const noisy = noiseStd > 0 ? tf.add(sum, tf.mul(tf.tensor(Float32Array.from(noise[t]), ordered[t].shape), noiseStd)) : sum;
          byVariable[variables[t].name] = tf.div(noisy, expectedBatch);
        });
        return { byVariable, loss: loss.dataSync()[0], correct: correct.dataSync()[0] };
      });
      try {
        optimizer.applyGradients(outcome.byVariable);
      } finally {
        tf.dispose(outcome.byVariable);
      }
      if (step >= lastEpochFrom) {
        lossSum += outcome.loss;
        correctSum += outcome.correct;
        measured += rows.length;
      }
      dp.onProgress?.(step + 1, steps);
      await new Promise((resolve) => setImmediate(resolve));
    }
    const delta = deltaFrom(global, model);
    const bad = firstNonFinite(delta);
    if (bad) throw divergedError(`DP-SGD left ${bad.value} in tensor '${bad.tensor}' at index ${bad.index}`, config);
    return {
      delta,
      numExamples: n,
      metrics: { loss: measured > 0 ? lossSum / measured : NaN, accuracy: measured > 0 ? correctSum / measured : NaN, seconds: (performance.now() - started) / 1000 },
      privacy: spend,
    };
  } finally {
    model.dispose();
    optimizer.dispose();
    xAll.dispose();
    yAll.dispose();
  }
}
