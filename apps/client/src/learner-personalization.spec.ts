// FedRep-style personalisation (Collins et al., ICML 2021, https://arxiv.org/abs/2102.07078) on two clients
// whose label priors are opposite: the federation's model fits the union (balanced), a private copy of the head
// fine-tuned on a client's own data fits that client's prior. The private head must win on each client's own
// test split, and nothing of it may reach what the client sends or the global weights it holds.
import * as tf from '@tensorflow/tfjs-core';
import { initialWeights, selectBackend } from '@fedtl/model';
import { encodeEvaluateReport, encodeUpdate, type ModelSpec, type NamedTensor, type TrainingConfig } from '@fedtl/protocol';
import { seededRandom } from '@fedtl/util';
import { Learner, featureExamples, type LearnerData, type LocalUpdate } from './learner';
import type { FeatureSplit } from './local-data';

const DIM = 8;
const LABELS = ['a', 'b'];
const spec: ModelSpec = { inputDim: DIM, adapterWidth: 4, head: 'linear', headHidden: 8, labels: LABELS };
const config: TrainingConfig = { localEpochs: 2, batchSize: 16, learningRate: 0.05, optimizer: 'adam', seed: 1 };
const PERSONALIZE_EPOCHS = 10;
const ROUNDS = 3;

/**
 * Both clients share the class-conditional distributions (unit Gaussians whose means are 1 apart along the
 * first axis, so a balanced classifier is right about 69 % of the time); only the prior differs: `majority`
 * carries 90 % of the rows. A head that knows the prior can do much better on that client than one that does not.
 */
function labelShiftedSplit(n: number, majority: 'a' | 'b', random: () => number): FeatureSplit {
  const gaussian = () => Math.sqrt(-2 * Math.log(Math.max(random(), 1e-12))) * Math.cos(2 * Math.PI * random());
  const features = new Float32Array(n * DIM);
  const labels: string[] = [];
  for (let i = 0; i < n; i++) {
    const label = i % 10 === 9 ? (majority === 'a' ? 'b' : 'a') : majority;
    labels.push(label);
    for (let j = 0; j < DIM; j++) features[i * DIM + j] = gaussian() + (j === 0 ? (label === 'a' ? 0.5 : -0.5) : 0);
  }
  return { features, labels };
}

function clientData(majority: 'a' | 'b', seed: number): LearnerData {
  const random = seededRandom(seed);
  return { train: labelShiftedSplit(200, majority, random), test: labelShiftedSplit(200, majority, random) };
}

const dataA = clientData('a', 11);
const dataB = clientData('b', 12);

function copyWeights(weights: readonly NamedTensor[]): NamedTensor[] {
  return weights.map((t) => ({ ...t, shape: t.shape.slice(), data: new Float32Array(t.data) }));
}

/** The example-weighted mean of the deltas added to `global` (FedAvg, McMahan et al. 2017). */
function fedAvgStep(global: readonly NamedTensor[], updates: readonly LocalUpdate[]): NamedTensor[] {
  const total = updates.reduce((sum, u) => sum + u.numExamples, 0);
  return global.map((tensor, i) => {
    const data = new Float32Array(tensor.data);
    for (const update of updates) {
      const weight = update.numExamples / total;
      const delta = update.delta[i];
      expect(delta.name).toBe(tensor.name);
      for (let k = 0; k < data.length; k++) data[k] += weight * delta.data[k];
    }
    return { ...tensor, data };
  });
}

/** What federated-client.ts puts on the wire for a training result, less the wall time (never reproducible). */
function updateBytes(update: LocalUpdate): Uint8Array {
  return encodeUpdate({ runId: 'run-1', round: 1, clientId: 'org-a', ...update, metrics: { ...update.metrics, seconds: 0 } });
}

describe('Learner personalisation (FedRep-style private head)', () => {
  let global: NamedTensor[];

  beforeAll(async () => {
    await selectBackend('cpu');
    const learners = [new Learner(spec, featureExamples(spec, dataA), 0, 5), new Learner(spec, featureExamples(spec, dataB), 0, 6)];
    global = initialWeights(spec, 1);
    for (let round = 0; round < ROUNDS; round++) {
      const updates: LocalUpdate[] = [];
      for (const learner of learners) updates.push(await learner.fit(global, { ...config, seed: round }));
      global = fedAvgStep(global, updates);
    }
  });

  it.each([
    ['A (90 % a)', dataA, 5],
    ['B (90 % b)', dataB, 6],
  ])('beats the global model on client %s own test split, deterministically', async (_name, data, seed) => {
    const learner = new Learner(spec, featureExamples(spec, data), 0, seed, PERSONALIZE_EPOCHS);
    await learner.fit(global, config);
    const report = await learner.evaluate(global);
    const { accuracy, personalizedAccuracy } = report.metrics;
    // The union is balanced, so the global model sits near the Bayes rate of equal priors (Φ(0.5) ≈ 0.69); the
    // private head learns the 90 % prior (Bayes rate about 0.90). Measured: global 0.655 on A and 0.585 on B, personalised 0.890 on both.
    expect(accuracy).toBeGreaterThan(0.55);
    expect(accuracy).toBeLessThan(0.8);
    expect(personalizedAccuracy).toBeGreaterThanOrEqual(0.85);
    expect(personalizedAccuracy).toBeGreaterThanOrEqual(accuracy + 0.1);
    // Fine-tuned from the global head with a fixed seed each time: the same weights give the same figures.
    expect((await learner.evaluate(global)).metrics).toEqual(report.metrics);
  });

  it('never sends the private head, leaves the global weights untouched and leaks no tensors', async () => {
    // Twins on client A's data: one personalises at each evaluation, the other never does.
    const personalizing = new Learner(spec, featureExamples(spec, dataA), 0, 5, PERSONALIZE_EPOCHS);
    const plain = new Learner(spec, featureExamples(spec, dataA), 0, 5, 0);
    const before = copyWeights(global);
    await personalizing.fit(global, config);
    await plain.fit(global, config);

    const tensorsBefore = tf.memory().numTensors;
    const personalized = await personalizing.evaluate(global);
    const reference = await plain.evaluate(global);
    expect(tf.memory().numTensors).toBe(tensorsBefore);

    // The global weights the client holds are byte for byte what they were before personalisation.
    expect(global.map((t) => t.name)).toEqual(before.map((t) => t.name));
    global.forEach((t, i) => expect(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)).toEqual(Buffer.from(before[i].data.buffer)));

    // The evaluation carries two extra numbers and nothing else: no tensor, no weights, the same global figures.
    const { personalizedAccuracy, personalizedMacroF1, ...globalMetrics } = personalized.metrics;
    expect(Object.keys(personalized).sort()).toEqual(['metrics', 'numExamples', 'perLabel']);
    expect(globalMetrics).toEqual(reference.metrics);
    expect(personalized.perLabel).toEqual(reference.perLabel);
    expect(personalized.numExamples).toBe(reference.numExamples);
    expect(typeof personalizedAccuracy).toBe('number');
    expect(typeof personalizedMacroF1).toBe('number');
    const envelope = { runId: 'run-1', round: 1, clientId: 'org-a' };
    const personalizedBytes = encodeEvaluateReport({ ...envelope, ...personalized });
    const referenceBytes = encodeEvaluateReport({ ...envelope, ...reference });
    // Two more metric entries (a short name and a double each); a head would add at least its 18 floats.
    expect(personalizedBytes.length - referenceBytes.length).toBeLessThan(80);

    // Training after personalisation sends exactly what a client that never personalised sends.
    const tensorsBeforeFit = tf.memory().numTensors;
    const next = await personalizing.fit(global, { ...config, seed: 7 });
    const nextReference = await plain.fit(global, { ...config, seed: 7 });
    expect(tf.memory().numTensors).toBe(tensorsBeforeFit);
    expect(next.delta.map((t) => t.name)).toEqual(global.map((t) => t.name));
    expect(Buffer.from(updateBytes(next))).toEqual(Buffer.from(updateBytes(nextReference)));
  });
});
