// JSON Lines: one JSON object a line. Read as a stream so a large user file never sits in memory as one string.

import { createReadStream, createWriteStream } from 'node:fs';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describeValue } from '@fedtl/util';
import { BadRowCollector } from './bad-rows';
import { stripBom } from './bom';
import type { LabelledText } from './example';
import { recordToExample, RowFailure, type ReadOptions, type ReadResult } from './record-to-example';

/** Reads `path` line by line; blank lines are allowed, bad rows are reported with `path:line`. */
export async function readJsonl(path: string, options: ReadOptions = {}): Promise<ReadResult> {
  const collector = new BadRowCollector(path, options.onBadRow ?? 'throw');
  const examples: LabelledText[] = [];
  const fileName = basename(path);
  const input = createReadStream(path, { encoding: 'utf8' });
  const lines = createInterface({ input, crlfDelay: Infinity });
  let lineNumber = 0;
  try {
    for await (const rawLine of lines) {
      lineNumber++;
      const line = lineNumber === 1 ? stripBom(rawLine) : rawLine;
      if (!line.trim()) continue;
      const record = parseObject(line);
      const example = record instanceof RowFailure ? record : recordToExample(record, options, `${fileName}:${lineNumber}`);
      if (example instanceof RowFailure) collector.report(lineNumber, example.reason);
      else examples.push(example);
    }
  } finally {
    lines.close();
    input.destroy();
  }
  return { examples, badRows: collector.badRows };
}

function parseObject(line: string): Record<string, unknown> | RowFailure {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    return new RowFailure(`invalid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return new RowFailure(`expected a JSON object, got ${describeValue(value)}`);
  }
  return value as Record<string, unknown>;
}

/**
 * Writes one JSON object a line, every field of each example included (e.g. a mailbox's `group`), so the file
 * reads back with readJsonl exactly as a user's own file would.
 */
export async function writeJsonl(path: string, examples: Iterable<LabelledText>): Promise<void> {
  await pipeline(Readable.from(jsonLines(examples)), createWriteStream(path, { encoding: 'utf8' }));
}

function* jsonLines(examples: Iterable<LabelledText>): Generator<string> {
  for (const example of examples) yield JSON.stringify(example) + '\n';
}
