// How `bench simulate` divides the data among its virtual clients (--partition), parsed once at the edge.
import { configError } from '@fedtl/util';

/**
 * dirichlet: label skew, each client's label mix drawn from Dir(α·p) (Hsu, Qi, Brown 2019, per-client form);
 * field: feature skew, clients dealt to the values of a string field (e.g. the review domain), `file` meaning
 * the file a row came from.
 */
export type PartitionSpec = { kind: 'dirichlet'; alpha: number } | { kind: 'field'; field: string };

/** The file a row came from, as a partition field. */
export const FILE_FIELD = 'file';

/** What --partition accepts, as its error message says it. */
export const PARTITION_SYNTAX = 'dirichlet:ALPHA with ALPHA > 0, or field:NAME';

/**
 * The spec `text` names, or undefined: `dirichlet:ALPHA` (ALPHA a finite number > 0) or `field:NAME`. The kind is
 * read in any case (`Dirichlet:0.5`); NAME is kept as written, since it is a JSON key.
 */
export function readPartition(text: string): PartitionSpec | undefined {
  const colon = text.indexOf(':');
  if (colon < 0) return undefined;
  const kind = text.slice(0, colon).trim().toLowerCase();
  const value = text.slice(colon + 1).trim();
  if (kind === 'dirichlet') {
    const alpha = Number(value);
    return value !== '' && Number.isFinite(alpha) && alpha > 0 ? { kind, alpha } : undefined;
  }
  return kind === 'field' && value !== '' ? { kind, field: value } : undefined;
}

/**
 * Parses --partition (see readPartition).
 * @throws FedtlError FEDTL_ERR_BAD_CONFIG naming --partition for anything else.
 */
export function parsePartition(text: string): PartitionSpec {
  const spec = readPartition(text);
  if (!spec) throw configError('--partition', PARTITION_SYNTAX, text);
  return spec;
}

/** The spec as --partition takes it, in its canonical form: for reports and --print-config. */
export function describePartition(spec: PartitionSpec): string {
  return spec.kind === 'dirichlet' ? `dirichlet:${spec.alpha}` : `field:${spec.field}`;
}
