// One entry point for a user's dataset file: the format follows the extension.

import { basename, extname } from 'node:path';
import { FedtlError } from '@fedtl/util';
import type { BadRow } from './bad-rows';
import { readCsv, type CsvReadOptions } from './csv';
import type { Dataset } from './example';
import { readJsonl } from './jsonl';

export interface DatasetReadResult extends Dataset {
  /** Rows left out under `onBadRow: 'skip'`; always empty otherwise. */
  badRows: BadRow[];
}

const JSONL_EXTENSIONS = ['.jsonl', '.ndjson'];
const DELIMITED_EXTENSIONS = ['.csv', '.tsv'];

/** Reads a .jsonl/.ndjson, .csv or .tsv file; the dataset is named after the file without its extension. */
export async function readDataset(path: string, options: CsvReadOptions = {}): Promise<DatasetReadResult> {
  const extension = extname(path).toLowerCase();
  const name = basename(path, extname(path));
  if (JSONL_EXTENSIONS.includes(extension)) return { name, ...(await readJsonl(path, options)) };
  if (DELIMITED_EXTENSIONS.includes(extension)) return { name, ...(await readCsv(path, options)) };
  const supported = [...JSONL_EXTENSIONS, ...DELIMITED_EXTENSIONS].join(', ');
  throw new FedtlError(
    'FEDTL_ERR_BAD_CONFIG',
    `cannot read ${path}: unsupported extension "${extension || '(none)'}", expected one of ${supported}`,
    { file: path },
  );
}
