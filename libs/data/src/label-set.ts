// Label sets: a model's head has one output per label, so every party must agree on the labels and their order.
// The order is plain code-unit sorting, never locale-dependent, so two machines always agree. Labels are
// compared in Unicode normalisation form C: "é" typed as one code point and as e + combining accent are one
// label, as every reader sees them.

import { FedtlError, quoteUntrusted } from '@fedtl/util';
import type { LabelledText } from './example';

type Labelled = Pick<LabelledText, 'label'>;

/** A label as fedtl compares, stores and sends it: NFC. */
export function normalizeLabel(label: string): string {
  return label.normalize('NFC');
}

/** The sorted unique labels of `examples`. */
export function labelsOf(examples: readonly Labelled[]): string[] {
  return sortedUnique(examples.map((example) => normalizeLabel(example.label)));
}

/** Each example's index in `labels`; throws FEDTL_ERR_UNKNOWN_LABEL naming every label not in `labels`. */
export function encodeLabels(examples: readonly Labelled[], labels: readonly string[]): Int32Array {
  const indexOf = new Map<string, number>();
  labels.forEach((raw, index) => {
    const label = normalizeLabel(raw);
    if (indexOf.has(label)) throw new RangeError(`labels must be unique, "${label}" appears twice`);
    indexOf.set(label, index);
  });
  const encoded = new Int32Array(examples.length);
  const unknown = new Set<string>();
  examples.forEach((example, position) => {
    const index = indexOf.get(normalizeLabel(example.label));
    if (index === undefined) unknown.add(example.label);
    else encoded[position] = index;
  });
  if (unknown.size > 0) throw unknownLabelsError('the examples have', sortedUnique(unknown), labels);
  return encoded;
}

/** The client labels the federation does not know, sorted; empty when the client's set is a subset. */
export function unknownLabels(clientLabels: Iterable<string>, federationLabels: Iterable<string>): string[] {
  const known = new Set([...federationLabels].map(normalizeLabel));
  return sortedUnique([...clientLabels].filter((label) => !known.has(normalizeLabel(label))));
}

/**
 * Join-time check: a client may hold fewer labels than the federation (its head simply never sees the others),
 * but never one the federation's head has no output for.
 */
export function checkLabelSubset(clientLabels: Iterable<string>, federationLabels: readonly string[]): void {
  const unknown = unknownLabels(clientLabels, federationLabels);
  if (unknown.length > 0) throw unknownLabelsError('the client has', unknown, federationLabels);
}

function unknownLabelsError(who: string, unknown: readonly string[], known: readonly string[]): FedtlError {
  const noun = unknown.length === 1 ? 'label' : 'labels';
  return new FedtlError(
    'FEDTL_ERR_UNKNOWN_LABEL',
    `${who} ${unknown.length} unknown ${noun}: ${list(unknown)} (known labels: ${list(known) || 'none'})`,
    { unknown: [...unknown], known: [...known] },
  );
}

// A label set can be large; a message lists enough to act on, the details carry the rest.
const LABELS_LISTED = 20;

function list(labels: readonly string[]): string {
  // Labels may come from a client's Join: quoted bounded and escaped.
  const shown = labels.slice(0, LABELS_LISTED).map((label) => quoteUntrusted(label, 64)).join(', ');
  return labels.length > LABELS_LISTED ? `${shown} and ${labels.length - LABELS_LISTED} more` : shown;
}

function sortedUnique(labels: Iterable<string>): string[] {
  return [...new Set(labels)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
