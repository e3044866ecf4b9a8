import { appendFileSync, existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { configureLogging } from '@fedtl/util';
import { useTestSandbox } from '@fedtl/util/testing';
import { FeatureCache } from './feature-cache';

const DIM = 4;
const backbone = { id: 'test', contentHash: 'ab'.repeat(32), dim: DIM };

/** A deterministic fake backbone that counts the texts it is asked to embed. */
function countingEmbed() {
  const calls: string[][] = [];
  const embed = async (texts: string[]) => {
    calls.push(texts);
    const out = new Float32Array(texts.length * DIM);
    texts.forEach((text, i) => {
      for (let k = 0; k < DIM; k++) out[i * DIM + k] = text.length + k / 10 + text.charCodeAt(0) / 1000;
    });
    return out;
  };
  return { embed, calls, embedded: () => calls.flat() };
}

describe('FeatureCache', () => {
  const sandbox = useTestSandbox();
  beforeAll(() => configureLogging({ level: 'error' }));

  const texts = ['alpha', 'beta', 'gamma', 'alpha', '', 'delta ✓'];

  it('embeds only misses, each distinct text once, and returns rows in order', async () => {
    const cache = FeatureCache.open(sandbox.dir, backbone);
    const fake = countingEmbed();
    const first = await cache.embedAll(texts, fake.embed, { batchSize: 2 });
    expect(fake.embedded()).toEqual(['alpha', 'beta', 'gamma', '', 'delta ✓']);
    expect(fake.calls.map((call) => call.length)).toEqual([2, 2, 1]);
    expect(cache.stats()).toEqual({ hits: 0, misses: 5 });
    const reference = await countingEmbed().embed(texts);
    expect(first).toEqual(reference);

    const again = await cache.embedAll([...texts].reverse(), fake.embed);
    expect(fake.calls).toHaveLength(3);
    expect(cache.stats()).toEqual({ hits: 6, misses: 5 });
    expect(again).toEqual(await countingEmbed().embed([...texts].reverse()));
    expect(cache.get('gamma')).toEqual(reference.subarray(2 * DIM, 3 * DIM));
    expect(cache.get('never seen')).toBeUndefined();
    expect([cache.has('beta'), cache.has('never seen')]).toEqual([true, false]);
    cache.close();
  });

  it('survives reopening, computing only new texts', async () => {
    const first = FeatureCache.open(sandbox.dir, backbone);
    await first.embedAll(texts, countingEmbed().embed);
    first.close();

    const reopened = FeatureCache.open(sandbox.dir, backbone);
    expect(reopened.count).toBe(5);
    const fake = countingEmbed();
    const features = await reopened.embedAll([...texts, 'epsilon'], fake.embed);
    expect(fake.embedded()).toEqual(['epsilon']);
    expect(features).toEqual(await countingEmbed().embed([...texts, 'epsilon']));
    reopened.close();
    expect(readdirSync(sandbox.dir)).toEqual([`${backbone.contentHash}.features`]);
  });

  it('drops a partial last record left by a crash and carries on', async () => {
    const cache = FeatureCache.open(sandbox.dir, backbone);
    await cache.embedAll(['one', 'two'], countingEmbed().embed);
    cache.close();
    const file = path.join(sandbox.dir, `${backbone.contentHash}.features`);
    const whole = statSync(file).size;
    appendFileSync(file, Buffer.alloc(17, 0xee)); // half a record: the crash hit mid-write

    const recovered = FeatureCache.open(sandbox.dir, backbone);
    expect(statSync(file).size).toBe(whole);
    expect(recovered.count).toBe(2);
    const fake = countingEmbed();
    await recovered.embedAll(['one', 'two', 'three'], fake.embed);
    expect(fake.embedded()).toEqual(['three']);
    recovered.close();
    expect(statSync(file).size).toBe(whole + 32 + 4 * DIM);
    const reread = FeatureCache.open(sandbox.dir, backbone);
    expect(reread.get('three')).toEqual(await countingEmbed().embed(['three']));
    reread.close();
  });

  it('sets aside a file it cannot read (another width or format) and starts empty', async () => {
    const file = path.join(sandbox.dir, `${backbone.contentHash}.features`);
    writeFileSync(file, 'not a feature cache at all');
    const cache = FeatureCache.open(sandbox.dir, backbone);
    expect(cache.count).toBe(0);
    await cache.embedAll(['x'], countingEmbed().embed);
    cache.close();
    expect(readdirSync(sandbox.dir).filter((name) => name.includes('.unreadable-'))).toHaveLength(1);
  });

  it('reports progress and refuses an embed function that returns the wrong size', async () => {
    const cache = FeatureCache.open(sandbox.dir, backbone);
    await cache.embedAll(['a'], countingEmbed().embed);
    const progress: Array<[number, number]> = [];
    await cache.embedAll(['a', 'b', 'c'], countingEmbed().embed, { batchSize: 1, onProgress: (done, total) => progress.push([done, total]) });
    expect(progress).toEqual([[1, 3], [2, 3], [3, 3]]);
    await expect(cache.embedAll(['z'], async () => new Float32Array(3))).rejects.toThrow('should return 1 x 4 = 4 values; got 3');
    expect(() => FeatureCache.open(sandbox.dir, { ...backbone, contentHash: 'abc' })).toThrow('contentHash must be 64 hex digits');
    cache.close();
  });
});

describe('FeatureCache lock', () => {
  const sandbox = useTestSandbox();

  it('lets readers share a cache, refuses a second writer, and takes over a lock left by a dead process', async () => {
    const dir = sandbox.dir;
    const ref = { id: 'test', contentHash: 'a'.repeat(64), dim: 2 };
    const lock = path.join(dir, `${'a'.repeat(64)}.features.lock`);
    const embed = async (texts: string[]) => Float32Array.from(texts.flatMap((t) => [t.length, 1]));
    const writer = FeatureCache.open(dir, ref);
    await writer.embedAll(['one', 'three'], embed);
    const reader = FeatureCache.open(dir, ref);
    expect(Array.from(await reader.embedAll(['three'], embed))).toEqual([5, 1]);
    await expect(reader.embedAll(['four'], embed)).rejects.toThrow(`is being written by process ${process.pid}`);
    reader.close();
    writer.close();
    expect(existsSync(lock)).toBe(false);
    writeFileSync(lock, '2147483646');
    const heir = FeatureCache.open(dir, ref);
    expect(Array.from(await heir.embedAll(['four'], embed))).toEqual([4, 1]);
    heir.close();
    expect(existsSync(lock)).toBe(false);
  });
});
