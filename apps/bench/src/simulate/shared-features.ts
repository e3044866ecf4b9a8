// The simulation's one feature matrix: every text embedded once, its rows laid out client by client in shared
// memory (a SharedArrayBuffer), so each virtual client's data is a range of rows — a view, never a copy — and the
// training workers read the same bytes as the main thread without a copy each.
export interface SharedFeatureTable {
  /** Features per row (the backbone's width). */
  dim: number;
  /** rows × dim float32, row-major, over a SharedArrayBuffer. */
  features: Float32Array;
  /** One label index (into the federation's label set) per row, over a SharedArrayBuffer. */
  labels: Int32Array;
  rows: number;
}

/** A virtual client's rows: `count` rows of the table from row `offset`. */
export interface RowRange {
  offset: number;
  count: number;
}

/**
 * Copies the features of rows 0…n−1 (`featuresOf(row)`, dim values each) and their `labels` into shared memory,
 * the rows of `parts[0]` first, then those of `parts[1]`…, and returns each part's range. Rows in no part are
 * left out. One copy in all: the caller's features may be views into a larger store.
 * @throws RangeError when a row's features are not dim values, a row index is out of range, or a row is in two parts.
 */
export function sharedFeatureTable(featuresOf: (row: number) => Float32Array, labels: ArrayLike<number>, dim: number, parts: readonly (readonly number[])[]): { table: SharedFeatureTable; ranges: RowRange[] } {
  const n = labels.length;
  if (!Number.isInteger(dim) || dim < 1) throw new RangeError(`sharedFeatureTable: expected dim to be an integer ≥ 1, got ${dim}`);
  const rows = parts.reduce((sum, part) => sum + part.length, 0);
  const table: SharedFeatureTable = {
    dim,
    features: new Float32Array(new SharedArrayBuffer(rows * dim * Float32Array.BYTES_PER_ELEMENT)),
    labels: new Int32Array(new SharedArrayBuffer(rows * Int32Array.BYTES_PER_ELEMENT)),
    rows,
  };
  const used = new Uint8Array(n);
  const ranges: RowRange[] = [];
  let next = 0;
  for (const part of parts) {
    ranges.push({ offset: next, count: part.length });
    for (const row of part) {
      if (!Number.isInteger(row) || row < 0 || row >= n) throw new RangeError(`sharedFeatureTable: expected row indices in [0, ${n}), got ${row}`);
      if (used[row]) throw new RangeError(`sharedFeatureTable: row ${row} is in two parts`);
      used[row] = 1;
      const vector = featuresOf(row);
      if (vector.length !== dim) throw new RangeError(`sharedFeatureTable: expected ${dim} features for row ${row}, got ${vector.length}`);
      table.features.set(vector, next * dim);
      table.labels[next] = labels[row];
      next++;
    }
  }
  return { table, ranges };
}

/** The rows of `range` as the training code's LabelledFeatures: views over the shared table, no copy. */
export function rowsOf(table: SharedFeatureTable, range: RowRange): { features: Float32Array; labels: Int32Array; n: number } {
  const { offset, count } = range;
  if (!(offset >= 0 && count >= 0 && offset + count <= table.rows)) throw new RangeError(`rowsOf: expected a range within ${table.rows} rows, got ${offset}+${count}`);
  return { features: table.features.subarray(offset * table.dim, (offset + count) * table.dim), labels: table.labels.subarray(offset, offset + count), n: count };
}
