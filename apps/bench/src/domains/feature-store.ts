// Embeds every text of the benchmark once, before any client starts: one worker pool in the bench process
// fills the shared feature cache (one writer at a time), so the client processes, which open the same cache
// directory, find every text there and never start a backbone of their own.
import { EmbeddingPool, FeatureCache } from '@fedtl/model';
import type { BackboneRef } from '@fedtl/protocol';
import { createLogger, createProgress } from '@fedtl/util';

export interface EmbeddingSummary {
  texts: number;
  /** Found in the cache. */
  cached: number;
  /** Run through the backbone now. */
  computed: number;
  seconds: number;
}

export interface FeatureStore {
  featuresOf(text: string): Float32Array;
  summary: EmbeddingSummary;
}

const log = createLogger('bench-embedding');

export async function embedOnce(texts: readonly string[], backbone: BackboneRef, spec: string, cacheDir: string, threads: number): Promise<FeatureStore> {
  const started = performance.now();
  const cache = FeatureCache.open(cacheDir, backbone);
  let pool: EmbeddingPool | undefined;
  let features: Float32Array;
  const bar = createProgress({ label: 'embedding', unit: 'texts', rate: true });
  try {
    features = await cache.embedAll(
      texts,
      async (missing) => {
        pool ??= await EmbeddingPool.start(spec, { threads: threads || undefined });
        return pool.embed(missing);
      },
      { onProgress: (done, total) => bar.update(done, total) },
    );
  } finally {
    bar.stop();
    await pool?.close();
    cache.close();
  }
  const stats = cache.stats();
  const summary: EmbeddingSummary = { texts: texts.length, cached: stats.hits, computed: stats.misses, seconds: (performance.now() - started) / 1000 };
  log.info('features ready', { ...summary, cacheDir });
  const rows = new Map<string, number>(texts.map((text, row) => [text, row]));
  const dim = backbone.dim;
  return {
    summary,
    featuresOf: (text) => {
      const row = rows.get(text);
      if (row === undefined) throw new Error(`no features for a text that was not embedded: ${text.slice(0, 40)}`);
      return features.subarray(row * dim, (row + 1) * dim);
    },
  };
}
