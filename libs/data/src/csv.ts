// CSV and TSV datasets: a header row names the columns, every later record is one example.

import { basename, extname } from 'node:path';
import { FedtlError } from '@fedtl/util';
import { BadRowCollector } from './bad-rows';
import { csvRecords } from './csv-records';
import type { LabelledText } from './example';
import { recordToExample, RowFailure, type ReadOptions, type ReadResult } from './record-to-example';
import { userTextChunks } from './text-file';

export interface CsvReadOptions extends ReadOptions {
  /** One character; inferred from the extension when absent: ',' for .csv, a tab for .tsv. */
  delimiter?: string;
}

const DELIMITER_BY_EXTENSION: Record<string, string> = { '.csv': ',', '.tsv': '\t' };

/** Reads a CSV or TSV file with a header row; bad rows are reported with the line where the record starts. */
export async function readCsv(path: string, options: CsvReadOptions = {}): Promise<ReadResult> {
  const delimiter = delimiterFor(path, options.delimiter);
  const collector = new BadRowCollector(path, options.onBadRow ?? 'throw');
  const examples: LabelledText[] = [];
  const fileName = basename(path);
  let header: string[] | undefined;
  for await (const record of csvRecords(userTextChunks(path), delimiter)) {
    if (!header) {
      if (record.malformed) throw badHeader(path, record.line, record.malformed);
      header = record.fields.map((name) => name.trim());
      checkColumns(path, record.line, header, options);
      continue;
    }
    const example = record.malformed
      ? new RowFailure(record.malformed)
      : record.fields.length !== header.length
        ? new RowFailure(`expected ${header.length} fields as in the header, got ${record.fields.length}`)
        : recordToExample(keyedBy(header, record.fields), options, `${fileName}:${record.line}`);
    if (example instanceof RowFailure) collector.report(record.line, example.reason);
    else examples.push(example);
  }
  if (!header) throw badHeader(path, 1, 'the file is empty, expected a header row');
  return { examples, badRows: collector.badRows };
}

function delimiterFor(path: string, delimiter: string | undefined): string {
  if (delimiter === undefined) {
    const inferred = DELIMITER_BY_EXTENSION[extname(path).toLowerCase()];
    if (inferred) return inferred;
    throw new FedtlError(
      'FEDTL_ERR_BAD_CONFIG',
      `cannot infer the delimiter of ${path}: expected a .csv or .tsv file, or a delimiter option`,
    );
  }
  if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
    throw new RangeError(
      `delimiter must be one character other than a quote or a line break, got ${JSON.stringify(delimiter)}`,
    );
  }
  return delimiter;
}

function checkColumns(path: string, line: number, header: string[], options: ReadOptions): void {
  const repeated = header.filter((column, index) => header.indexOf(column) !== index);
  if (repeated.length > 0) {
    throw badHeader(path, line, `the header names column ${JSON.stringify(repeated[0])} twice; expected distinct column names`);
  }
  const required = [...(options.textFields ?? [options.textField ?? 'text']), options.labelField ?? 'label'];
  const missing = required.filter((column) => !header.includes(column));
  if (missing.length > 0) {
    const quoted = (names: string[]) => names.map((name) => JSON.stringify(name)).join(', ');
    throw badHeader(path, line, `the header has no column ${quoted(missing)} (columns: ${quoted(header)})`);
  }
}

function badHeader(path: string, line: number, reason: string): FedtlError {
  return new FedtlError('FEDTL_ERR_BAD_DATA', `${path}:${line}: ${reason}`, { file: path, line, reason });
}

function keyedBy(header: string[], fields: string[]): Record<string, string> {
  const record: Record<string, string> = {};
  header.forEach((column, index) => (record[column] = fields[index]));
  return record;
}
