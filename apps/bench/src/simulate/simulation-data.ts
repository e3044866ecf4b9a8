// The simulation's labelled texts: one file, or a folder of DOMAIN.train.* files, pooled; the held-out test set is
// the folder's DOMAIN.test.* files or, without them, a stratified seeded share of the pool. With a field
// partition, each row's value of that field comes along (read by the same reader, that field as the "label", so
// a field missing or not a string in any row is refused with the row's line).
import { readdirSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { csvRecords, readDataset, stratifiedSplit, userTextChunks, type LabelledText } from '@fedtl/data';
import { FedtlError, configError, deriveSeed } from '@fedtl/util';
import { existingPath } from '../option-checks';
import { FILE_FIELD, describePartition } from './partition-spec';

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
 * @throws FedtlError FEDTL_ERR_BAD_CONFIG when the path is missing, a folder holds no training file, or the
 *   first rows of a file lack the partition field (naming --partition and the fields they have);
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
    else if (options.groupField !== undefined) {
      await checkGroupField(file, options.groupField);
      groups.push(...(await readDataset(file, { labelField: options.groupField })).examples.map((row) => row.label));
    }
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

const PEEKED_ROWS = 5;

/**
 * Refuses a partition field that the first rows of `file` (a CSV file's header) do not have, naming --partition
 * and the fields they do have: every row needs it, and otherwise the reader's error would name only a row.
 */
async function checkGroupField(file: string, field: string): Promise<void> {
  const fields = await firstRowsFields(file);
  if (fields.includes(field)) return;
  const spec = describePartition({ kind: 'field', field });
  throw configError('--partition', `field:NAME with NAME a field of every row (the first rows of ${basename(file)} have ${fields.map((name) => JSON.stringify(name)).join(', ') || 'none'}), or field:${FILE_FIELD}`, spec);
}

/** The field names of the first rows of a JSONL file, or of a CSV/TSV file's header. */
async function firstRowsFields(file: string): Promise<string[]> {
  const extension = extname(file).toLowerCase();
  if (extension === '.csv' || extension === '.tsv') {
    for await (const header of csvRecords(userTextChunks(file), extension === '.csv' ? ',' : '\t')) return header.fields.map((name) => name.trim());
    return [];
  }
  const fields = new Set<string>();
  let rows = 0;
  let pending = '';
  const take = (line: string) => {
    if (!line.trim()) return;
    rows++;
    try {
      const row: unknown = JSON.parse(line);
      if (row && typeof row === 'object' && !Array.isArray(row)) Object.keys(row).forEach((name) => fields.add(name));
    } catch {
      // A malformed row is the reader's to report, with its line.
    }
  };
  for await (const chunk of userTextChunks(file)) {
    const lines = (pending + chunk).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      take(line);
      if (rows >= PEEKED_ROWS) return [...fields];
    }
  }
  take(pending);
  return [...fields];
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
