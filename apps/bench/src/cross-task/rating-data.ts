// The target task of the cross-task experiment: the same organisations' reviews, labelled by their star rating
// (the reviews' `rating` field, 1.0, 2.0, 4.0 or 5.0, written as the labels "1", "2", "4", "5") instead of by
// sentiment. The texts, the held-out slices and the test files are the domains benchmark's (readDomains); only
// the label changes, so a budget drawn with withBudget is stratified by rating.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LabelledText } from '@fedtl/data';
import { FedtlError } from '@fedtl/util';
import type { DomainTexts } from '../domains/domain-data';

/** A star rating as a label: the integer's decimal digits ("1" for 1.0). */
export function ratingLabel(rating: unknown, where: string): string {
  if (typeof rating !== 'number' || !Number.isInteger(rating) || rating < 1 || rating > 5) {
    throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `${where}: expected a field "rating" holding an integer star rating 1..5, got ${JSON.stringify(rating)}`);
  }
  return String(rating);
}

/**
 * The rating label of every review in a JSONL file, by id. Throws FEDTL_ERR_BAD_CONFIG naming file and line for
 * a row without an id or with a rating that is not an integer in 1..5.
 */
export async function readRatings(path: string): Promise<Map<string, string>> {
  const ratings = new Map<string, string>();
  const lines = (await readFile(path, 'utf8')).split('\n');
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    const row = JSON.parse(line) as { id?: unknown; rating?: unknown };
    const where = `${path}:${i + 1}`;
    if (typeof row.id !== 'string' && typeof row.id !== 'number') throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `${where}: expected an id, got ${JSON.stringify(row.id)}`);
    ratings.set(String(row.id), ratingLabel(row.rating, where));
  });
  return ratings;
}

/** `examples` relabelled by rating; throws FEDTL_ERR_BAD_CONFIG naming the first example `ratings` lacks. */
export function withRatingLabels(examples: readonly LabelledText[], ratings: ReadonlyMap<string, string>, domain: string): LabelledText[] {
  return examples.map((example) => {
    const label = ratings.get(example.id);
    if (label === undefined) throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `${domain}: expected a rating for review ${example.id}, found none in its train or test file`);
    return { ...example, label };
  });
}

/**
 * The domains with every example relabelled by rating: the same training pool, the same evaluation set (test file
 * or validation slice), in the same order. Reads each domain's DOMAIN.train.jsonl and DOMAIN.test.jsonl in
 * `dataDir` for the ratings.
 */
export async function asRatingTask(domains: readonly DomainTexts[], dataDir: string): Promise<DomainTexts[]> {
  return Promise.all(
    domains.map(async (domain) => {
      const ratings = new Map([
        ...(await readRatings(join(dataDir, `${domain.name}.train.jsonl`))),
        ...(await readRatings(join(dataDir, `${domain.name}.test.jsonl`))),
      ]);
      return { name: domain.name, trainPool: withRatingLabels(domain.trainPool, ratings, domain.name), evaluation: withRatingLabels(domain.evaluation, ratings, domain.name) };
    }),
  );
}

/** Accuracy of predicting always one label: 1 / labels (chance) and the evaluation set's most frequent label's share. */
export interface ConstantBaselines {
  chance: number;
  /** Per domain: the share of its evaluation set's most frequent label (the best any constant prediction scores). */
  majorityClass: Record<string, { label: string; accuracy: number }>;
}

export function constantBaselines(domains: readonly DomainTexts[], labels: readonly string[]): ConstantBaselines {
  const majorityClass: ConstantBaselines['majorityClass'] = {};
  for (const domain of domains) {
    const counts = new Map<string, number>();
    for (const example of domain.evaluation) counts.set(example.label, (counts.get(example.label) ?? 0) + 1);
    // Ties go to the label that sorts first, so the result does not depend on the file's order.
    const [label, count] = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0] ?? ['', 0];
    majorityClass[domain.name] = { label, accuracy: domain.evaluation.length === 0 ? NaN : count / domain.evaluation.length };
  }
  return { chance: 1 / labels.length, majorityClass };
}
