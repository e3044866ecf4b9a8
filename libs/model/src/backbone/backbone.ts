// The frozen feature extractor every client shares: text in, one L2-normalised vector per text out. Only the
// adapter and head on top of it train; the backbone is pinned across the federation by its content hash.
import type { BackboneRef } from '@fedtl/protocol';

export interface Backbone {
  /** Human-readable id: `use-lite` or `tfjs-model:<dir>`. */
  readonly id: string;
  /** sha256 (hex) over the weights, the vocabulary and the tokenizer recipe. */
  readonly contentHash: string;
  /** Width of each feature vector. */
  readonly dim: number;
  /** Row-major [texts.length * dim]; each row has L2 norm 1. Empty texts are allowed (see each backbone). */
  embed(texts: string[]): Promise<Float32Array>;
  ref(): BackboneRef;
  /** Frees the model's tensors; the backbone is unusable afterwards. */
  dispose(): void;
}

/** Scales each row of a row-major [rows * dim] matrix to unit length, in place; an all-zero row stays zero. */
export function l2NormalizeRows(values: Float32Array, dim: number): Float32Array {
  for (let offset = 0; offset < values.length; offset += dim) {
    let sumSquares = 0;
    for (let k = offset; k < offset + dim; k++) sumSquares += values[k] * values[k];
    if (sumSquares === 0) continue;
    const scale = 1 / Math.sqrt(sumSquares);
    for (let k = offset; k < offset + dim; k++) values[k] *= scale;
  }
  return values;
}

export function validateBatchSize(batchSize: number): number {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be an integer >= 1; got ${batchSize}`);
  return batchSize;
}
