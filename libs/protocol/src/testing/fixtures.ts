// Realistic protocol messages for tests: an adapter + linear head over 512-d features, deterministic values.
import { seededRandom } from '@fedtl/util';
import type {
  EvaluateReport,
  EvaluateRequest,
  JoinRequest,
  NamedTensor,
  RoundPlan,
  Update,
  Welcome,
} from '../domain';

const LABELS = ['negative', 'neutral', 'positive'];

export function randomFloat32(length: number, seed: number, spread = 0.1): Float32Array {
  const random = seededRandom(seed);
  return Float32Array.from({ length }, () => (random() * 2 - 1) * spread);
}

/** Adapter down/up projections, their biases and a linear head: the tensors that cross the wire each round. */
export function adapterWeights(seed: number): NamedTensor[] {
  const tensor = (name: string, shape: number[], offset: number): NamedTensor => ({
    name,
    shape,
    dtype: 'float32',
    data: randomFloat32(shape.reduce((a, b) => a * b, 1), seed + offset),
  });
  return [
    tensor('adapter/down/kernel', [512, 16], 1),
    tensor('adapter/down/bias', [16], 2),
    tensor('adapter/up/kernel', [16, 512], 3),
    tensor('adapter/up/bias', [512], 4),
    tensor('head/kernel', [512, 3], 5),
    tensor('head/bias', [3], 6),
    { name: 'head/step', shape: [], dtype: 'int32', data: Int32Array.of(42) },
  ];
}

export const sampleJoin: JoinRequest = {
  clientId: 'org-books',
  token: 's3cret-token',
  protocolVersion: 1,
  backbone: { id: 'use-lite', contentHash: 'a'.repeat(64), dim: 512 },
  labels: LABELS,
  numTrainExamples: 1800,
  numTestExamples: 200,
};

export const sampleWelcome: Welcome = {
  runId: 'run-2024-07-01',
  clientId: 'org-books',
  protocolVersion: 1,
  model: { inputDim: 512, adapterWidth: 16, head: 'mlp', headHidden: 64, labels: LABELS },
  currentRound: 3,
  maxMessageBytes: 1_500_000,
};

export function sampleRoundPlan(): RoundPlan {
  return {
    runId: 'run-2024-07-01',
    round: 4,
    weights: adapterWeights(7),
    config: { localEpochs: 2, batchSize: 32, learningRate: 0.003, optimizer: 'adam', seed: 3_000_000_123 },
  };
}

export function sampleUpdate(): Update {
  return {
    runId: 'run-2024-07-01',
    round: 4,
    clientId: 'org-books',
    delta: adapterWeights(11),
    numExamples: 1800,
    metrics: { trainLoss: 0.4187, trainAccuracy: 0.8312, seconds: 12.5 },
  };
}

export function sampleEvaluateRequest(): EvaluateRequest {
  return { runId: 'run-2024-07-01', round: 4, weights: adapterWeights(13) };
}

export const sampleEvaluateReport: EvaluateReport = {
  runId: 'run-2024-07-01',
  round: 4,
  clientId: 'org-books',
  numExamples: 200,
  metrics: { accuracy: 0.845, macroF1: 0.8123, loss: 0.391, localOnlyAccuracy: 0.78 },
  perLabel: {
    negative: { support: 70, correct: 61 },
    neutral: { support: 40, correct: 27 },
    positive: { support: 90, correct: 81 },
  },
};
