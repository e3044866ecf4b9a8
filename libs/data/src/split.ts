// Seeded, stratified partitions of a labelled dataset. Each label is shuffled with its own derived seed, so a
// label's share does not depend on which other labels are present, and results are identical for a seed.

import { deriveSeed, seededRandom, shuffled } from '@fedtl/util';
import type { LabelledText } from './example';

type Labelled = Pick<LabelledText, 'label'>;

export interface SplitOptions {
  /** Share of each label that goes to the test side, strictly between 0 and 1. */
  testFraction: number;
  seed: number;
}

export interface TrainTestSplit<T> {
  train: T[];
  test: T[];
}

/**
 * Splits every label in the same proportion. A label with at least two examples has at least one on each
 * side; a label with a single example goes to train. Both sides come out shuffled.
 */
export function stratifiedSplit<T extends Labelled>(examples: readonly T[], options: SplitOptions): TrainTestSplit<T> {
  const { testFraction, seed } = options;
  if (!(testFraction > 0 && testFraction < 1)) {
    throw new RangeError(`testFraction must be strictly between 0 and 1, got ${testFraction}`);
  }
  checkSeed(seed);
  const train: T[] = [];
  const test: T[] = [];
  for (const [label, group] of groupByLabel(examples)) {
    const mixed = shuffled(group, seededRandom(deriveSeed(seed, 'split', label)));
    const testCount = group.length < 2 ? 0 : clamp(Math.round(group.length * testFraction), 1, group.length - 1);
    test.push(...mixed.slice(0, testCount));
    train.push(...mixed.slice(testCount));
  }
  return {
    train: shuffled(train, seededRandom(deriveSeed(seed, 'split', 'train'))),
    test: shuffled(test, seededRandom(deriveSeed(seed, 'split', 'test'))),
  };
}

/**
 * `count` examples drawn in proportion to the labels' sizes (largest remainder), every label getting at least
 * one when `count` allows; all of them, shuffled, when `count` is at least the dataset's size. A label's draw
 * with a larger count extends its draw with a smaller one.
 */
export function stratifiedSample<T extends Labelled>(examples: readonly T[], count: number, seed: number): T[] {
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`count must be a non-negative integer, got ${count}`);
  checkSeed(seed);
  const groups = groupByLabel(examples);
  const random = seededRandom(deriveSeed(seed, 'sample'));
  if (count >= examples.length) return shuffled(examples, random);
  const quotas = sampleQuotas([...groups.values()].map((group) => group.length), count);
  const sample: T[] = [];
  [...groups].forEach(([label, group], index) => {
    sample.push(...shuffled(group, seededRandom(deriveSeed(seed, 'sample', label))).slice(0, quotas[index]));
  });
  return shuffled(sample, random);
}

/** Per group sizes, how many to draw: one each first when `count` covers every group, the rest proportionally. */
function sampleQuotas(sizes: readonly number[], count: number): number[] {
  const floor = count >= sizes.length ? 1 : 0;
  const capacities = sizes.map((size) => size - floor);
  const totalCapacity = capacities.reduce((sum, capacity) => sum + capacity, 0);
  const toShare = count - floor * sizes.length;
  const exact = capacities.map((capacity) => (totalCapacity === 0 ? 0 : (toShare * capacity) / totalCapacity));
  const quotas = exact.map((share) => floor + Math.floor(share));
  let left = count - quotas.reduce((sum, quota) => sum + quota, 0);
  // Largest remainders first; ties go to the larger group, then to the earlier (sorted) label.
  const order = exact
    .map((share, index) => ({ index, remainder: share - Math.floor(share) }))
    .sort((a, b) => b.remainder - a.remainder || sizes[b.index] - sizes[a.index] || a.index - b.index);
  for (const { index } of order) {
    if (left === 0) break;
    if (quotas[index] < sizes[index]) {
      quotas[index]++;
      left--;
    }
  }
  return quotas;
}

/** Examples grouped by label, labels in sorted order so iteration never depends on input order. */
function groupByLabel<T extends Labelled>(examples: readonly T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const example of examples) {
    const group = groups.get(example.label);
    if (group) group.push(example);
    else groups.set(example.label, [example]);
  }
  return new Map([...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function checkSeed(seed: number): void {
  if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}
