// The figures of one measured configuration: texts per second (median over interleaved repetitions), the speedup
// over the naive baseline (median over repetitions of the ratio within each repetition, so that load that falls on
// one repetition falls on both sides of its ratio), the model's arithmetic rate, and the padding it computes.
import type { EmbeddingConfiguration } from './configurations';

/** The middle value of `values` (the mean of the two middle ones for an even count). @throws RangeError when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export interface ThroughputRow {
  configuration: EmbeddingConfiguration;
  description: string;
  threads: number;
  texts: number;
  /** Wall seconds of each repetition, in run order. */
  seconds: number[];
  textsPerSecond: number;
  /** Median over repetitions of naive seconds / this configuration's seconds (1 for naive itself). */
  speedupOverNaive: number;
  /** The model's FLOPs over these texts (from its graph) / median seconds, in GFLOP/s, all threads together. */
  gflops: number;
  /** Share of the positions the graph computes that are padding (0 for one text per pass). */
  paddingFraction: number;
}

/**
 * Rows from the seconds of each configuration's repetitions (repetition r of every configuration measured
 * side by side). `seconds.naive` must be present, with as many repetitions as every other configuration.
 * @throws RangeError when the naive baseline is missing or repetition counts differ.
 */
export function throughputRows(
  measured: ReadonlyArray<Omit<ThroughputRow, 'textsPerSecond' | 'speedupOverNaive' | 'gflops'> & { flops: number }>,
): ThroughputRow[] {
  const naive = measured.find((row) => row.configuration === 'naive');
  if (naive === undefined) throw new RangeError('the naive configuration is the baseline and must be measured');
  return measured.map(({ flops, ...row }) => {
    if (row.seconds.length !== naive.seconds.length) throw new RangeError(`${row.configuration} has ${row.seconds.length} repetitions, naive ${naive.seconds.length}`);
    const seconds = median(row.seconds);
    return {
      ...row,
      textsPerSecond: row.texts / seconds,
      speedupOverNaive: median(row.seconds.map((s, r) => naive.seconds[r] / naive.texts / (s / row.texts))),
      gflops: flops / seconds / 1e9,
    };
  });
}

/**
 * Share of padding in the positions a graph computes when each batch is padded to its longest text:
 * 1 - Σ tokens / Σ (batch size × longest in batch). `tokens[i]`: the tokens text i is fed with (at least 1);
 * `batches`: indices into `tokens`.
 */
export function paddingFraction(tokens: readonly number[], batches: ReadonlyArray<readonly number[]>): number {
  let real = 0;
  let computed = 0;
  for (const batch of batches) {
    const lengths = batch.map((index) => tokens[index]);
    real += lengths.reduce((sum, n) => sum + n, 0);
    computed += lengths.length * Math.max(0, ...lengths);
  }
  return computed === 0 ? 0 : 1 - real / computed;
}
