// Which rows of the training data each virtual client holds, by --partition: a Dirichlet label split (Hsu et
// al. 2019, @fedtl/data's dirichletClientSplit) or a split by a field's value (the data's own organisations, e.g.
// one review domain per group of clients). As Flower Datasets' DirichletPartitioner and NaturalIdPartitioner.
import { dirichletClientSplit } from '@fedtl/data';
import { FedtlError, deriveSeed, seededRandom, shuffled } from '@fedtl/util';
import type { PartitionSpec } from './partition-spec';

/**
 * Row indices per client (every row in exactly one client; none empty), deterministic for a seed.
 * - dirichlet: ⌊n/N⌋ or ⌈n/N⌉ rows each, with the label mix drawn from Dir(α·p).
 * - field: the field's distinct values sorted; client i serves value i mod G, and each value's rows (shuffled) are
 *   dealt to its clients in shares of equal size (±1).
 * @param labels one label per row.
 * @param groups one field value per row; required for a field partition.
 * @throws FedtlError FEDTL_ERR_BAD_CONFIG for more clients than rows, a field partition without groups, fewer
 *   clients than field values, or a value with fewer rows than clients.
 */
export function partitionRows(labels: readonly string[], groups: readonly string[] | undefined, spec: PartitionSpec, clients: number, seed: number): number[][] {
  const rows = labels.map((_, i) => i);
  if (clients > rows.length) throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `--clients: expected at most the ${rows.length} training rows, got ${clients}`);
  if (spec.kind === 'dirichlet') {
    return dirichletClientSplit(rows, (row) => labels[row], { clients, alpha: spec.alpha, seed: deriveSeed(seed, 'partition') });
  }
  if (!groups) throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `--partition field:${spec.field}: expected the rows' values of "${spec.field}"`);
  const values = [...new Set(groups)].sort();
  if (clients < values.length) {
    throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `--clients: expected at least one client per value of "${spec.field}" (${values.length}: ${values.slice(0, 5).join(', ')}${values.length > 5 ? ', …' : ''}), got ${clients}`);
  }
  const random = seededRandom(deriveSeed(seed, 'partition'));
  const parts: number[][] = Array.from({ length: clients }, () => []);
  values.forEach((value, v) => {
    const members = parts.map((_, client) => client).filter((client) => client % values.length === v);
    const pool = shuffled(rows.filter((row) => groups[row] === value), random);
    if (pool.length < members.length) {
      throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `--clients: "${spec.field}" = "${value}" has ${pool.length} rows for its ${members.length} clients; expected fewer clients`);
    }
    members.forEach((client, k) => {
      const from = Math.floor((k * pool.length) / members.length);
      const to = Math.floor(((k + 1) * pool.length) / members.length);
      parts[client] = pool.slice(from, to);
    });
  });
  return parts;
}
