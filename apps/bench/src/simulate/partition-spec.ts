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

/**
 * Parses `dirichlet:ALPHA` (ALPHA a finite number > 0) or `field:NAME`.
 * @throws FedtlError FEDTL_ERR_BAD_CONFIG naming --partition for anything else.
 */
export function parsePartition(text: string): PartitionSpec {
  const expected = 'dirichlet:ALPHA with ALPHA > 0, or field:NAME';
  const [kind, ...rest] = text.split(':');
  const value = rest.join(':');
  if (kind === 'dirichlet') {
    const alpha = Number(value);
    if (value.trim() === '' || !Number.isFinite(alpha) || alpha <= 0) throw configError('--partition', expected, text);
    return { kind, alpha };
  }
  if (kind === 'field' && value.trim() !== '') return { kind, field: value.trim() };
  throw configError('--partition', expected, text);
}

/** The spec as --partition takes it, for reports. */
export function describePartition(spec: PartitionSpec): string {
  return spec.kind === 'dirichlet' ? `dirichlet:${spec.alpha}` : `field:${spec.field}`;
}
