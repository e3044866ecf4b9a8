// JSON Lines: one JSON object a line. Read as a stream so a large user file never sits in memory as one string.

import { createWriteStream } from 'node:fs';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describeValue } from '@fedtl/util';
import { BadRowCollector } from './bad-rows';
import type { LabelledText } from './example';
import { recordToExample, RowFailure, type ReadOptions, type ReadResult } from './record-to-example';
import { userTextChunks } from './text-file';

/** Reads `path` line by line; blank lines are allowed, bad rows are reported with `path:line`. */
export async function readJsonl(path: string, options: ReadOptions = {}): Promise<ReadResult> {
  const collector = new BadRowCollector(path, options.onBadRow ?? 'throw');
  const examples: LabelledText[] = [];
  const fileName = basename(path);
  let lineNumber = 0;
  for await (const line of linesOf(userTextChunks(path))) {
    lineNumber++;
    if (!line.trim()) continue;
    const record = parseObject(line);
    const example = record instanceof RowFailure ? record : recordToExample(record, options, `${fileName}:${lineNumber}`);
    if (example instanceof RowFailure) collector.report(lineNumber, example.reason);
    else examples.push(example);
  }
  return { examples, badRows: collector.badRows };
}

/** Splits text chunks into lines at LF or CRLF; a last line without a line break is still a line. */
async function* linesOf(chunks: AsyncIterable<string>): AsyncGenerator<string> {
  let pending = '';
  for await (const chunk of chunks) {
    const parts = (pending + chunk).split('\n');
    pending = parts.pop() ?? '';
    for (const part of parts) yield part.endsWith('\r') ? part.slice(0, -1) : part;
  }
  if (pending) yield pending.endsWith('\r') ? pending.slice(0, -1) : pending;
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
