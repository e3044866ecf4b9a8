// The two non-federated references, trained in this process with the very code the clients run (trainLocally,
// evaluate), the same initial weights as the coordinator and the same hyperparameters. For fairness they make
// the same passes over their data as a federated client: rounds x local epochs.
import { evaluate, initialWeights, isEncoderStates, trainLocally, type LabelledExamples } from '@fedtl/model';
import type { ModelSpec, NamedTensor } from '@fedtl/protocol';
import { applyDelta } from '@fedtl/strategies';
import { deriveSeed } from '@fedtl/util';
import type { TrainingOptions } from './domains-config';

export interface InProcessRun {
  spec: ModelSpec;
  training: TrainingOptions;
  rounds: number;
  seed: number;
}

/** Trains from the coordinator's initial weights on `train` and returns the trained weights. */
export async function trainAlone(run: InProcessRun, train: LabelledExamples, name: string): Promise<NamedTensor[]> {
  const start = initialWeights(run.spec, run.seed);
  const config = { ...run.training, localEpochs: run.rounds * run.training.localEpochs, seed: deriveSeed(run.seed, 'alone', name) };
  const result = await trainLocally(run.spec, start, train, config);
  return applyDelta(start, result.delta);
}

export async function accuracyOf(spec: ModelSpec, weights: readonly NamedTensor[], data: LabelledExamples): Promise<number> {
  return (await evaluate(spec, weights, data)).metrics.accuracy;
}

/** Concatenates several labelled sets (the centralized union): all features, or all encoder states of one encoder. */
export function union(parts: readonly LabelledExamples[]): LabelledExamples {
  const n = parts.reduce((sum, part) => sum + part.n, 0);
  const allStates = parts.filter(isEncoderStates);
  if (allStates.length > 0) {
    if (allStates.length !== parts.length) throw new Error('union: expected all features or all encoder states, got both');
    const [first] = allStates;
    return {
      ...first,
      states: allStates.flatMap((part) => part.states),
      tokens: Int32Array.from(allStates.flatMap((part) => Array.from(part.tokens))),
      labels: Int32Array.from(allStates.flatMap((part) => Array.from(part.labels))),
      n,
    };
  }
  const featureParts = parts as ReadonlyArray<Extract<LabelledExamples, { features: Float32Array }>>;
  const features = new Float32Array(featureParts.reduce((sum, part) => sum + part.features.length, 0));
  const labels = new Int32Array(n);
  let row = 0;
  let offset = 0;
  for (const part of featureParts) {
    features.set(part.features, offset);
    labels.set(part.labels, row);
    offset += part.features.length;
    row += part.n;
  }
  return { features, labels, n };
}
