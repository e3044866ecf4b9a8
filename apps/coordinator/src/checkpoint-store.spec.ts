import { mkdir, readdir, readFile, truncate, writeFile } from 'node:fs/promises';
import { configureLogging } from '@fedtl/util';
import { useTestSandbox } from '@fedtl/util/testing';
import { CheckpointStore, decodeCheckpoint, encodeCheckpoint, type Checkpoint } from './checkpoint-store';

function checkpoint(round: number): Checkpoint {
  return {
    runId: 'run-1',
    round,
    configHash: 'abc',
    createdAt: '2026-11-28T00:00:00.000Z',
    weights: [
      { name: 'adapter/down/kernel', shape: [2, 3], dtype: 'float32', data: Float32Array.from([1, 2, 3, 4, 5, round]) },
      { name: 'head/out/bias', shape: [2], dtype: 'float32', data: Float32Array.from([-1, 0.5]) },
    ],
    strategyState: {
      scalars: { step: round },
      tensors: { m: [{ name: 'head/out/bias', shape: [2], dtype: 'float32', data: Float32Array.from([0.1, 0.2]) }] },
    },
  };
}

describe('checkpoints', () => {
  const sandbox = useTestSandbox();
  const warnings: string[] = [];

  beforeAll(() => configureLogging({ level: 'warn', format: 'json', sink: { write: (line) => warnings.push(line) } }));
  beforeEach(() => {
    warnings.length = 0;
  });

  it('round-trips weights, strategy state and metadata exactly', () => {
    expect(decodeCheckpoint(encodeCheckpoint(checkpoint(3)))).toEqual(checkpoint(3));
  });

  it('detects damage anywhere in the file', () => {
    const bytes = encodeCheckpoint(checkpoint(1));
    for (const position of [0, 20, bytes.length - 40, bytes.length - 1]) {
      const damaged = Buffer.from(bytes);
      damaged[position] ^= 0xff;
      expect(() => decodeCheckpoint(damaged, 'x.ckpt')).toThrow(expect.objectContaining({ code: 'FEDTL_ERR_CHECKPOINT_CORRUPT' }));
    }
    expect(() => decodeCheckpoint(Buffer.from('hello'), 'x.ckpt')).toThrow(/expected a fedtl checkpoint/);
  });

  it('loads the newest valid checkpoint, skipping a truncated one with a warning', async () => {
    const store = new CheckpointStore(sandbox.dir);
    await store.save(checkpoint(1));
    await store.save(checkpoint(2));
    await truncate(store.pathFor(2), 100);
    const latest = await store.loadLatest();
    expect(latest?.round).toBe(1);
    expect(warnings.some((w) => w.includes('skipping an unusable checkpoint') && w.includes('round-000002.ckpt'))).toBe(true);
  });

  it('skips checkpoints with non-finite weights or strategy state (a diverged model passes its checksum), using the previous one', async () => {
    const store = new CheckpointStore(sandbox.dir);
    await store.save(checkpoint(1));
    const badState = checkpoint(2);
    badState.strategyState.tensors.m[0].data[1] = Infinity;
    await store.save(badState);
    const badWeights = checkpoint(3);
    badWeights.weights[1].data[0] = NaN;
    await store.save(badWeights);
    const latest = await store.loadLatest();
    expect(latest).toEqual(checkpoint(1));
    expect(warnings.some((w) => w.includes('round-000003.ckpt: expected finite values, got NaN in weights tensor') && w.includes('head/out/bias'))).toBe(true);
    expect(warnings.some((w) => w.includes('round-000002.ckpt: expected finite values, got Infinity in state:m tensor'))).toBe(true);
  });

  it('ignores garbage files, leaves no temp files and keeps only the newest few', async () => {
    const store = new CheckpointStore(sandbox.dir, 3);
    await writeFile(`${sandbox.dir}/notes.txt`, 'hello');
    for (let round = 1; round <= 5; round++) await store.save(checkpoint(round));
    expect((await readdir(sandbox.dir)).sort()).toEqual(['notes.txt', 'round-000003.ckpt', 'round-000004.ckpt', 'round-000005.ckpt']);
    expect(await store.rounds()).toEqual([5, 4, 3]);
    expect(decodeCheckpoint(await readFile(store.pathFor(5))).weights[0].data[5]).toBe(5);
  });

  it('refuses to resume when checkpoint files exist but every one is damaged, naming each file and why', async () => {
    const store = new CheckpointStore(sandbox.dir);
    await store.save(checkpoint(1));
    await store.save(checkpoint(2));
    await truncate(store.pathFor(1), 10);
    await writeFile(store.pathFor(2), 'not a checkpoint');
    const refusal = store.loadLatest();
    await expect(refusal).rejects.toMatchObject({ code: 'FEDTL_ERR_NO_VALID_CHECKPOINT' });
    await expect(refusal).rejects.toThrow(/round-000002\.ckpt: .*expected a fedtl checkpoint.*round-000001\.ckpt: .*--fresh/);
  });

  it('removes its temp file when a write fails', async () => {
    const store = new CheckpointStore(sandbox.dir);
    // A non-empty directory where the checkpoint should go: the final rename fails (EISDIR/ENOTEMPTY), as a
    // full disk would make the write fail, and unlike chmod this also fails for root.
    await mkdir(`${store.pathFor(1)}/blocker`, { recursive: true });
    await expect(store.save(checkpoint(1))).rejects.toThrow();
    expect(await readdir(sandbox.dir)).toEqual(['round-000001.ckpt']);
  });

  it('removes temp files of an earlier crashed write, and nothing else', async () => {
    const store = new CheckpointStore(sandbox.dir);
    await store.save(checkpoint(1));
    await writeFile(`${store.pathFor(2)}.tmp-4242`, 'half a checkpoint');
    await writeFile(`${sandbox.dir}/notes.tmp-1.txt`, 'not ours');
    expect(await store.removeStaleTempFiles()).toEqual(['round-000002.ckpt.tmp-4242']);
    expect((await readdir(sandbox.dir)).sort()).toEqual(['notes.tmp-1.txt', 'round-000001.ckpt']);
  });

  it('has nothing to resume from an empty or missing directory', async () => {
    expect(await new CheckpointStore(`${sandbox.dir}/missing`).loadLatest()).toBeNull();
  });
});
