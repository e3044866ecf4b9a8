// Maps one parsed row (a JSON object or a CSV record keyed by header) to a LabelledText, or explains why not.
// JSONL and CSV/TSV share it so both formats accept the same options and fail with the same words.

import { describeValue } from '@fedtl/util';
import type { BadRow, BadRowPolicy } from './bad-rows';
import type { LabelledText } from './example';
import { normalizeLabel } from './label-set';

export interface FieldOptions {
  /** Field holding the text. Default 'text'. Ignored when `textFields` is given. */
  textField?: string;
  /** Several fields whose non-blank values are joined by a newline, e.g. ['title', 'text']. */
  textFields?: readonly string[];
  /** Field holding the label. Default 'label'. Surrounding whitespace is ignored; the label is NFC-normalised. */
  labelField?: string;
  /** Field holding the id. Default 'id'. Rows without one get `file:line`. */
  idField?: string;
}

export interface ReadOptions extends FieldOptions {
  /** 'throw' (default) stops at the first bad row; 'skip' collects bad rows into the result. */
  onBadRow?: BadRowPolicy;
}

export interface ReadResult {
  examples: LabelledText[];
  badRows: BadRow[];
}

/** Why a row could not become an example; a class, so no field of a user's row can be mistaken for it. */
export class RowFailure {
  constructor(readonly reason: string) {}
}

export function recordToExample(
  record: Record<string, unknown>,
  options: FieldOptions,
  fallbackId: string,
): LabelledText | RowFailure {
  const text = textOf(record, options.textFields ?? [options.textField ?? 'text']);
  if (text instanceof RowFailure) return text;
  const label = labelOf(record, options.labelField ?? 'label');
  if (label instanceof RowFailure) return label;
  const id = idOf(record, options.idField ?? 'id', fallbackId);
  if (id instanceof RowFailure) return id;
  return { id, text, label };
}

function isAbsent(value: unknown): boolean {
  return value === undefined || value === null;
}

function textOf(record: Record<string, unknown>, fields: readonly string[]): string | RowFailure {
  const parts: string[] = [];
  for (const field of fields) {
    const value = record[field];
    if (isAbsent(value)) continue;
    if (typeof value !== 'string') return new RowFailure(`expected a string field "${field}", got ${describeValue(value)}`);
    const trimmed = value.trim();
    if (trimmed) parts.push(trimmed);
  }
  if (parts.length > 0) return parts.join('\n');
  const names = fields.map((field) => `"${field}"`).join(', ');
  const allAbsent = fields.every((field) => isAbsent(record[field]));
  return fields.length === 1
    ? new RowFailure(`expected a non-empty string field ${names}, ${allAbsent ? 'but it is missing' : 'got a blank one'}`)
    : new RowFailure(`expected a non-empty string in one of the fields ${names}, but all are missing or blank`);
}

function labelOf(record: Record<string, unknown>, field: string): string | RowFailure {
  const value = record[field];
  if (isAbsent(value)) return new RowFailure(`expected a string field "${field}", but it is missing`);
  if (typeof value !== 'string') return new RowFailure(`expected a string field "${field}", got ${describeValue(value)}`);
  const label = normalizeLabel(value.trim());
  if (!label) return new RowFailure(`expected a non-empty string field "${field}", got a blank one`);
  return label;
}

function idOf(record: Record<string, unknown>, field: string, fallbackId: string): string | RowFailure {
  const value = record[field];
  if (isAbsent(value) || value === '') return fallbackId;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return new RowFailure(`expected a string or number field "${field}", got ${describeValue(value)}`);
}
