// The ways `bench embedding` embeds the same texts, one of them the naive baseline the others are divided by.

/**
 * Configurations that run on one thread, inside the bench's worker for their backend. `naive` is the baseline: the
 * packaged model one text at a time on the backend's stock kernels. `unbatched` is the same with fedtl's wasm
 * BatchMatMul (libs/model wasm-batch-matmul.ts), which every other configuration uses too.
 */
export type SingleThreadConfiguration = 'naive' | 'unbatched' | 'batched' | 'bucketed';

export type EmbeddingConfiguration = SingleThreadConfiguration | 'pool';

export const CONFIGURATIONS: readonly EmbeddingConfiguration[] = ['naive', 'unbatched', 'batched', 'bucketed', 'pool'];

/** What each configuration does, as the report states it. */
export function describeConfiguration(configuration: EmbeddingConfiguration, batchSize: number, threads: number): string {
  switch (configuration) {
    case 'naive':
      return "one text per forward pass, one thread, the backend's stock kernels";
    case 'unbatched':
      return "one text per forward pass, one thread, fedtl's wasm BatchMatMul";
    case 'batched':
      return `batches of ${batchSize} in input order (padded to each batch's longest text), one thread`;
    case 'bucketed':
      return `batches of ${batchSize} of similar token counts (length buckets within the chunk), one thread`;
    case 'pool':
      return `EmbeddingPool: ${threads} worker threads, batches of ${batchSize} bucketed by length`;
  }
}
