// The simulation's labelled texts: one file, or a folder of DOMAIN.train.* files, pooled; the held-out test set is
// the folder's DOMAIN.test.* files or, without them, a stratified seeded share of the pool. With a field
// partition, each row's value of that field comes along (read by the same reader, that field as the "label", so
// a field missing or not a string in any row is refused with the row's line).
import { readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { readDataset, stratifiedSplit, type LabelledText } from '@fedtl/data';
import { FedtlError, deriveSeed } from '@fedtl/util';
import { existingPath } from '../option-checks';
import { FILE_FIELD } from './partition-spec';

export interface SimulationData {
  train: LabelledText[];
  /** Each training row's value of the partition field (same order); absent without a field. */
  trainGroups?: string[];
  test: LabelledText[];
  /** Every label of train and test, sorted: the federation's label set (the head's outputs). */
  labels: string[];
  /** The training files read, and where the test set came from. */
  files: string[];
  testSource: string;
}

const DATA_EXTENSIONS = ['.jsonl', '.ndjson', '.csv', '.tsv'];
const TRAIN_INFIX = '.train';
const TEST_INFIX = '.test';

export interface ReadSimulationDataOptions {
  /** Field whose values partition the rows (`file`: the file's name without .train and extension). */
  groupField?: string;
  testFraction: number;
  seed: number;
}

/**
 * Reads `path` (a file, or a folder whose DOMAIN.train.EXT files are the data and DOMAIN.test.EXT the test set).
 * @throws FedtlError FEDTL_ERR_BAD_CONFIG when the path is missing or a folder holds no training file;
 *   FEDTL_ERR_BAD_DATA for a bad row (of the text, the label or the group field).
 */
export async function readSimulationData(path: string, options: ReadSimulationDataOptions): Promise<SimulationData> {
  existingPath(path, '--data', 'file or folder');
  const trainFiles = statSync(path).isDirectory() ? dataFiles(path, TRAIN_INFIX) : [path];
  if (trainFiles.length === 0) {
    throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `--data: expected DOMAIN${TRAIN_INFIX}{${DATA_EXTENSIONS.join(',')}} files in ${path}, found none`);
  }
  const testFiles = statSync(path).isDirectory() ? dataFiles(path, TEST_INFIX) : [];
  const train: LabelledText[] = [];
  const groups: string[] = [];
  for (const file of trainFiles) {
    const rows = (await readDataset(file)).examples;
    train.push(...rows);
    if (options.groupField === FILE_FIELD) groups.push(...rows.map(() => domainOf(file)));
    else if (options.groupField !== undefined) groups.push(...(await readDataset(file, { labelField: options.groupField })).examples.map((row) => row.label));
  }
  let pool = train;
  let poolGroups = options.groupField === undefined ? undefined : groups;
  let test: LabelledText[] = [];
  let testSource: string;
  if (testFiles.length > 0) {
    for (const file of testFiles) test.push(...(await readDataset(file)).examples);
    testSource = testFiles.map((file) => basename(file)).join(', ');
  } else {
    // Split row indices, so the group values follow their rows.
    const indexed = train.map((row, index) => ({ ...row, index }));
    const split = stratifiedSplit(indexed, { testFraction: options.testFraction, seed: deriveSeed(options.seed, 'test-split') });
    pool = split.train.map((row) => train[row.index]);
    poolGroups = poolGroups && split.train.map((row) => groups[row.index]);
    test = split.test.map((row) => train[row.index]);
    testSource = `a stratified ${options.testFraction} of the training rows`;
  }
  const labels = [...new Set([...pool, ...test].map((row) => row.label))].sort();
  return { train: pool, ...(poolGroups ? { trainGroups: poolGroups } : {}), test, labels, files: trainFiles.map((file) => basename(file)), testSource };
}

/** DOMAIN<infix>.EXT files of `dir`, sorted. */
function dataFiles(dir: string, infix: string): string[] {
  return readdirSync(dir)
    .filter((name) => DATA_EXTENSIONS.some((ext) => name.endsWith(infix + ext)))
    .sort()
    .map((name) => join(dir, name));
}

/** `books` for books.train.jsonl (or books.jsonl). */
function domainOf(file: string): string {
  const name = basename(file);
  const dot = name.lastIndexOf('.');
  const stem = dot > 0 ? name.slice(0, dot) : name;
  return stem.endsWith(TRAIN_INFIX) ? stem.slice(0, -TRAIN_INFIX.length) : stem;
}
