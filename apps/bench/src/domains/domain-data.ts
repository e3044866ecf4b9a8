// The benchmark's data: one organisation per domain, each with a training pool and an evaluation set (the
// domain's test file, or with --validate a held-out slice of its training file, so that choosing
// hyperparameters never looks at the test files). A budget of N labels draws N training examples per domain,
// stratified and seeded, the same draw for every method.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readDataset, stratifiedSample, stratifiedSplit, type LabelledText } from '@fedtl/data';
import type { LabelledEncoderStates, LabelledFeatures, TrainableUseLite } from '@fedtl/model';
import { FedtlError, configError, deriveSeed } from '@fedtl/util';
import { existingPath } from '../option-checks';

export interface DomainTexts {
  name: string;
  /** Everything a client may train on. */
  trainPool: LabelledText[];
  /** What every method is scored on. */
  evaluation: LabelledText[];
}

export interface DomainBudget {
  name: string;
  train: LabelledText[];
  evaluation: LabelledText[];
}

const TRAIN_SUFFIX = '.train.jsonl';
const TEST_SUFFIX = '.test.jsonl';

/** Domains in `dataDir` with both a train and a test file, sorted. */
export function discoverDomains(dataDir: string): string[] {
  return readdirSync(existingPath(dataDir, '--data-dir', 'folder'))
    .filter((name) => name.endsWith(TRAIN_SUFFIX))
    .map((name) => name.slice(0, -TRAIN_SUFFIX.length))
    .filter((domain) => existsSync(join(dataDir, domain + TEST_SUFFIX)))
    .sort();
}

export interface ReadDomainsOptions {
  dataDir: string;
  domains: string[];
  seed: number;
  /** Score on this share of each training file (held out from training) instead of the test file. */
  validationFraction?: number;
}

export async function readDomains(options: ReadDomainsOptions): Promise<DomainTexts[]> {
  const available = discoverDomains(options.dataDir);
  const names = options.domains.length > 0 ? options.domains : available;
  const missing = names.filter((name) => !available.includes(name));
  if (missing.length > 0 || names.length === 0) {
    throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `--domains: expected some of [${available.join(', ')}] (each with ${TRAIN_SUFFIX} and ${TEST_SUFFIX}), got [${names.join(', ')}]`);
  }
  return Promise.all(
    names.map(async (name): Promise<DomainTexts> => {
      const train = (await readDataset(join(options.dataDir, name + TRAIN_SUFFIX))).examples;
      if (options.validationFraction === undefined) {
        const test = (await readDataset(join(options.dataDir, name + TEST_SUFFIX))).examples;
        return { name, trainPool: train, evaluation: test };
      }
      const split = stratifiedSplit(train, { testFraction: options.validationFraction, seed: deriveSeed(options.seed, 'validation', name) });
      return { name, trainPool: split.train, evaluation: split.test };
    }),
  );
}

/** Each domain's N-label training draw (all of its pool when N exceeds it). */
export function withBudget(domains: readonly DomainTexts[], labelsPerClient: number, seed: number): DomainBudget[] {
  return domains.map((domain) => ({ name: domain.name, train: stratifiedSample(domain.trainPool, labelsPerClient, seed), evaluation: domain.evaluation }));
}

/** The federation's label set: every label any domain uses, sorted (its order fixes the head's outputs). */
export function labelSetOf(domains: readonly DomainTexts[]): string[] {
  const labels = new Set<string>();
  for (const domain of domains) for (const example of [...domain.trainPool, ...domain.evaluation]) labels.add(example.label);
  // Checked here, before anything is embedded: the coordinator would refuse it too, but only minutes later.
  if (labels.size < 2) throw configError('--data-dir', 'domain files of at least two distinct labels (the classes the federation learns)', [...labels]);
  return [...labels].sort();
}

/**
 * Every distinct text the given draws use (training and evaluation), in a stable order: what the bench embeds
 * once, up front. Only the drawn training examples: a 50-label run need not embed the whole training pool.
 */
export function textsToEmbed(draws: readonly DomainBudget[]): string[] {
  return [...new Set(draws.flatMap((domain) => [...domain.train, ...domain.evaluation].map((example) => example.text)))];
}

/** Features and label indices of `examples`, looked up by text. */
export function labelledFeatures(examples: readonly LabelledText[], featuresOf: (text: string) => Float32Array, labels: readonly string[]): LabelledFeatures {
  const first = examples.length > 0 ? featuresOf(examples[0].text) : new Float32Array(0);
  const dim = first.length;
  const features = new Float32Array(examples.length * dim);
  const indices = new Int32Array(examples.length);
  examples.forEach((example, i) => {
    features.set(featuresOf(example.text), i * dim);
    indices[i] = labels.indexOf(example.label);
  });
  return { features, labels: indices, n: examples.length };
}

/** The frozen encoder's states entering layer `fromLayer` (the first with LoRA) and label indices of `examples`. */
export async function labelledEncoderStates(encoder: TrainableUseLite, examples: readonly LabelledText[], labels: readonly string[], fromLayer: number): Promise<LabelledEncoderStates> {
  const { states, tokens, width } = await encoder.states(examples.map((example) => example.text), fromLayer);
  const indices = Int32Array.from(examples, (example) => labels.indexOf(example.label));
  return { encoder: encoder.weights, fromLayer, states, tokens, width, labels: indices, n: examples.length };
}
