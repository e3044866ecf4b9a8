import { configureLogging } from '@fedtl/util';
import type { Backbone } from './backbone';
import { EmbeddingPool, embedWithPool } from './embedding-pool';
import { loadBackbone } from './load-backbone';

const texts = Array.from({ length: 45 }, (_, i) => (i % 9 === 0 ? '' : `Sentence ${i}: the ${['cat', 'market', 'rain'][i % 3]} ${i % 2 ? 'rises' : 'sleeps'}.`));
const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((max, value, k) => Math.max(max, Math.abs(value - b[k])), 0);

describe('embedding pool (USE lite)', () => {
  let inProcess: Backbone;
  let reference: Float32Array;

  beforeAll(async () => {
    configureLogging({ level: 'warn' });
    inProcess = await loadBackbone('use-lite');
    reference = await inProcess.embed(texts);
  });
  afterAll(() => inProcess?.dispose());

  it('gives the in-process vectors with 2 worker threads, in input order, reporting progress', async () => {
    const progress: number[] = [];
    const pooled = await embedWithPool('use-lite', texts, { threads: 2, batchSize: 8, onProgress: (done) => progress.push(done) });
    expect(pooled).toHaveLength(reference.length);
    expect(maxAbsDiff(pooled, reference)).toBeLessThan(1e-5);
    expect(progress).toHaveLength(6);
    expect(progress[progress.length - 1]).toBe(texts.length);
  });

  it('embeds in-process with one thread, identically', async () => {
    const pool = await EmbeddingPool.start('use-lite', { threads: 1 });
    try {
      expect(pool.threads).toBe(1);
      expect(await pool.embed(texts)).toEqual(reference);
      expect(await pool.embed([])).toHaveLength(0);
    } finally {
      await pool.close();
    }
    await expect(pool.embed(['x'])).rejects.toThrow('the embedding pool is closed');
  });

  it('reports a backbone the workers cannot load, and stops them', async () => {
    await expect(EmbeddingPool.start('tfjs-model:/nonexistent/model', { threads: 2 })).rejects.toMatchObject({
      code: 'FEDTL_ERR_BAD_CONFIG',
      message: expect.stringContaining('embedding worker for tfjs-model:/nonexistent/model could not start'),
    });
    await expect(embedWithPool('bert', ['x'])).rejects.toThrow('backbone must be');
  });
});
