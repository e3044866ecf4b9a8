import { rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { initialWeights, precomputedBackboneRef } from '@fedtl/model';
import type { ModelSpec, NamedTensor } from '@fedtl/protocol';
import { configureLogging, seededRandom } from '@fedtl/util';
import { useTestSandbox } from '@fedtl/util/testing';
import { CheckpointStore, type Checkpoint } from './checkpoint-store';
import { parseCoordinatorConfig, type CoordinatorConfig } from './config';
import { initFrom } from './init-from';
import { configHashOf, startCoordinator } from './run-coordinator';

const DIM = 12;
const BACKBONE = precomputedBackboneRef(DIM);
const spec = (labels: string[], adapterWidth = 4): ModelSpec => ({ inputDim: DIM, adapterWidth, head: 'linear', headHidden: 64, labels });

/** Trained-looking weights: every value differs from a fresh initialisation. */
function trained(model: ModelSpec, seed: number): NamedTensor[] {
  const random = seededRandom(seed);
  return initialWeights(model, 1).map((t) => ({ ...t, data: Float32Array.from(t.data, () => random() - 0.5) }));
}

function checkpointOf(weights: NamedTensor[], round: number, model?: ModelSpec): Checkpoint {
  return {
    runId: 'run-1', round, configHash: 'source', createdAt: '2026-11-28T00:00:00.000Z', weights,
    strategyState: { scalars: {}, tensors: {} },
    ...(model ? { model, backbone: BACKBONE } : {}),
  };
}

function must<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('expected a value');
  return value;
}
const bytes = (t: NamedTensor | undefined) => {
  const { data } = must(t);
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
};
const byName = (weights: NamedTensor[], name: string) => weights.find((t) => t.name === name);
const ADAPTER = ['adapter/down/kernel', 'adapter/down/bias', 'adapter/up/kernel', 'adapter/up/bias'];
const HEAD = ['head/out/kernel', 'head/out/bias'];

describe('--init-from', () => {
  const sandbox = useTestSandbox();
  const lines: string[] = [];
  beforeAll(() => configureLogging({ level: 'info', format: 'json', sink: { write: (line) => lines.push(line) } }));
  beforeEach(() => {
    lines.length = 0;
  });

  async function sourceRun(model: ModelSpec, rounds = [1], recordModel = true): Promise<{ dir: string; weights: Map<number, NamedTensor[]> }> {
    const dir = join(sandbox.dir, 'run1');
    const store = new CheckpointStore(join(dir, 'checkpoints'));
    const weights = new Map<number, NamedTensor[]>();
    for (const round of rounds) {
      weights.set(round, trained(model, 100 + round));
      await store.save(checkpointOf(must(weights.get(round)), round, recordModel ? model : undefined));
    }
    return { dir, weights };
  }

  it('keeps every tensor, byte for byte, when the label set is the same', async () => {
    const model = spec(['a', 'b']);
    const { dir, weights } = await sourceRun(model);
    const result = await initFrom(join(dir, 'checkpoints', 'round-000001.ckpt'), model, BACKBONE, 42);
    expect(result.kept).toEqual([...ADAPTER, ...HEAD]);
    expect(result.reinitialised).toEqual([]);
    for (const tensor of must(weights.get(1))) expect(bytes(byName(result.weights, tensor.name)).equals(bytes(tensor))).toBe(true);
    expect(result.backboneCheck).toMatch(/content hash .* matches/);
    const line = JSON.parse(must(lines.find((l) => l.includes('starting from another run'))));
    expect(line).toMatchObject({ kept: [...ADAPTER, ...HEAD], reinitialised: [], sourceRound: 1 });
  });

  it('keeps the adapter and re-initialises the head for another label set, and says so', async () => {
    const { dir, weights } = await sourceRun(spec(['a', 'b']));
    const target = spec(['x', 'y', 'z']);
    const result = await initFrom(dir, target, BACKBONE, 42);
    expect(result.kept).toEqual(ADAPTER);
    expect(result.reinitialised.map((r) => r.name)).toEqual(HEAD);
    expect(result.reinitialised[0].reason).toMatch(/shape \[12,2\] in the source, \[12,3\] here/);
    for (const name of ADAPTER) expect(bytes(byName(result.weights, name)).equals(bytes(byName(must(weights.get(1)), name)))).toBe(true);
    const fresh = initialWeights(target, 42);
    for (const name of HEAD) expect(byName(result.weights, name)).toEqual(byName(fresh, name));
    const line = JSON.parse(must(lines.find((l) => l.includes('starting from another run'))));
    expect(line.kept).toEqual(ADAPTER);
    expect(line.reinitialised).toEqual([expect.stringMatching(/^head\/out\/kernel \(shape/), expect.stringMatching(/^head\/out\/bias \(shape/)]);
  });

  it('keeps LoRA pairs of the same name and shape, and starts the others fresh, saying why', async () => {
    const lora = (rank: number) => ({ inputDim: 512, adapterWidth: 0, head: 'linear' as const, headHidden: 64, labels: ['a', 'b'], lora: { rank, alpha: 2 * rank, layers: [1], targets: ['query' as const, 'value' as const] } });
    const wide = precomputedBackboneRef(512);
    const dir = join(sandbox.dir, 'lora-run');
    const source = trained(lora(4), 7);
    await new CheckpointStore(join(dir, 'checkpoints')).save({ ...checkpointOf(source, 1, lora(4)), backbone: wide });
    const LORA = ['lora/layer_1/query/a', 'lora/layer_1/query/b', 'lora/layer_1/value/a', 'lora/layer_1/value/b'];

    const same = await initFrom(dir, { ...lora(4), labels: ['x', 'y', 'z'] }, wide, 42);
    expect(same.kept).toEqual(LORA);
    for (const name of LORA) expect(bytes(byName(same.weights, name)).equals(bytes(byName(source, name)))).toBe(true);
    expect(same.reinitialised.map((r) => r.name)).toEqual(HEAD);

    const otherRank = await initFrom(dir, lora(8), wide, 42);
    expect(otherRank.kept).toEqual(HEAD);
    expect(otherRank.reinitialised.map((r) => `${r.name}: ${r.reason}`)[0]).toBe('lora/layer_1/query/a: shape [512,4] in the source, [512,8] here');

    const otherScale = await initFrom(dir, { ...lora(4), lora: { ...lora(4).lora, alpha: 32 } }, wide, 42);
    expect(otherScale.reinitialised.map((r) => `${r.name}: ${r.reason}`)[0]).toBe('lora/layer_1/query/a: LoRA scale α/r 2 in the source, 8 here');

    const frozenSource = join(sandbox.dir, 'frozen-run');
    const frozen = { ...lora(4), lora: undefined };
    await new CheckpointStore(join(frozenSource, 'checkpoints')).save({ ...checkpointOf(trained(frozen, 8), 1, frozen), backbone: wide });
    const fromFrozen = await initFrom(frozenSource, lora(4), wide, 42);
    expect(fromFrozen.kept).toEqual(HEAD);
    expect(fromFrozen.reinitialised.map((r) => [r.name, r.reason])).toEqual(LORA.map((name) => [name, 'not in the source']));
  });

  it('re-initialises the head when the labels are as many but others or in another order', async () => {
    const { dir } = await sourceRun(spec(['a', 'b']));
    for (const labels of [['b', 'a'], ['a', 'c']]) {
      const result = await initFrom(dir, spec(labels), BACKBONE, 42);
      expect(result.kept).toEqual(ADAPTER);
      expect(result.reinitialised).toEqual(HEAD.map((name) => ({ name, reason: `labels a,b in the source, ${labels.join(',')} here` })));
    }
  });

  it('reads the labels from the run dir summary.json of an older checkpoint, and re-initialises the head when nothing records them', async () => {
    const model = spec(['a', 'b']);
    const { dir } = await sourceRun(model, [1], false);
    let result = await initFrom(dir, model, BACKBONE, 42);
    expect(result.source.describedBy).toBe('nothing');
    expect(result.reinitialised.map((r) => r.reason)).toEqual([expect.stringMatching(/label set is unknown/), expect.stringMatching(/label set is unknown/)]);
    expect(result.backboneCheck).toMatch(/records no backbone: only its adapter's input dimension \(12\) is checked/);
    expect(lines.some((l) => l.includes('"warn"') && l.includes('label set is unknown'))).toBe(true);

    await writeFile(join(dir, 'summary.json'), JSON.stringify({ runId: 'run-1', model, backbone: BACKBONE }));
    result = await initFrom(join(dir, 'checkpoints', 'round-000001.ckpt'), model, BACKBONE, 42);
    expect(result.source.describedBy).toBe('summary');
    expect(result.kept).toEqual([...ADAPTER, ...HEAD]);
  });

  it('refuses an adapter of another width, naming the tensor, both shapes and the flag', async () => {
    const { dir } = await sourceRun(spec(['a', 'b'], 4));
    await expect(initFrom(dir, spec(['a', 'b', 'c'], 8), BACKBONE, 42)).rejects.toMatchObject({
      code: 'FEDTL_ERR_BAD_CONFIG',
      message: expect.stringMatching(/^--adapter-width: tensor "adapter\/down\/kernel" must be kept from --init-from .*round-000001\.ckpt: expected shape \[12,4\] \(the source's\), got \[12,8\] \(this run's model\); use --adapter-width 4$/),
    });
    await expect(initFrom(dir, spec(['a', 'b'], 0), BACKBONE, 42)).resolves.toMatchObject({ kept: HEAD, unused: ADAPTER });
  });

  it('refuses another backbone by its content hash', async () => {
    const { dir } = await sourceRun(spec(['a', 'b']));
    const other = { ...BACKBONE, contentHash: 'f'.repeat(64) };
    await expect(initFrom(dir, spec(['a', 'b']), other, 42)).rejects.toMatchObject({
      code: 'FEDTL_ERR_BAD_CONFIG',
      message: expect.stringMatching(/^--backbone: expected the backbone --init-from .* was trained on \(precomputed:12, content hash [0-9a-f]{64}\), got "precomputed:12 \(content hash f{64}\)"$/),
    });
  });

  it('takes a run dir\'s newest valid checkpoint', async () => {
    const { dir, weights } = await sourceRun(spec(['a', 'b']), [1, 2, 3]);
    const result = await initFrom(dir, spec(['a', 'b']), BACKBONE, 42);
    expect(result.source.path).toBe(join(dir, 'checkpoints', 'round-000003.ckpt'));
    expect(result.weights).toEqual(weights.get(3));
    // A damaged newest one is skipped exactly as a resume skips it.
    await truncate(join(dir, 'checkpoints', 'round-000003.ckpt'), 100);
    expect((await initFrom(dir, spec(['a', 'b']), BACKBONE, 42)).source.checkpoint.round).toBe(2);
  });

  it('names the path of a corrupt file, a run dir without a usable checkpoint, or a missing path', async () => {
    const { dir } = await sourceRun(spec(['a', 'b']));
    const file = join(dir, 'checkpoints', 'round-000001.ckpt');
    await truncate(file, 100);
    await expect(initFrom(file, spec(['a', 'b']), BACKBONE, 42)).rejects.toMatchObject({
      code: 'FEDTL_ERR_CHECKPOINT_CORRUPT',
      message: expect.stringContaining(`--init-from: expected a valid checkpoint, got ${file}: `),
    });
    await expect(initFrom(dir, spec(['a', 'b']), BACKBONE, 42)).rejects.toMatchObject({
      code: 'FEDTL_ERR_NO_VALID_CHECKPOINT',
      message: expect.stringContaining(file),
    });
    await rm(file);
    await expect(initFrom(dir, spec(['a', 'b']), BACKBONE, 42)).rejects.toThrow(`--init-from: expected a run directory holding checkpoints (round-NNNNNN.ckpt), got "${join(dir, 'checkpoints')} with none"`);
    await expect(initFrom(join(sandbox.dir, 'nope'), spec(['a', 'b']), BACKBONE, 42)).rejects.toThrow(new RegExp(`^--init-from: expected an existing checkpoint file or run directory, got ".*nope \\(ENOENT`));
  });

  describe('with a restart', () => {
    function config(outDir: string, initFromArg?: string): CoordinatorConfig {
      const parsed = parseCoordinatorConfig([
        '--port', '0', '--out-dir', outDir, '--backbone', `precomputed:${DIM}`, '--labels', 'a,b,c', '--adapter-width', '4', '--log-level', 'warn',
        ...(initFromArg ? ['--init-from', initFromArg] : []),
      ]);
      return parsed;
    }

    it('puts the source in the config hash only when set', () => {
      const model = spec(['a', 'b', 'c']);
      const plain = configHashOf(config('out'), model, BACKBONE.contentHash);
      const withoutKey: Partial<CoordinatorConfig> = config('out');
      delete withoutKey.initFrom;
      expect(configHashOf(withoutKey as CoordinatorConfig, model, BACKBONE.contentHash)).toBe(plain);
      expect(configHashOf(config('out', 'run1'), model, BACKBONE.contentHash)).not.toBe(plain);
      expect(configHashOf(config('out', 'run1'), model, BACKBONE.contentHash)).toBe(configHashOf(config('out', join(process.cwd(), 'run1')), model, BACKBONE.contentHash));
    });

    it('starts a new run from the source, and a restart resumes its own checkpoint without reading the source', async () => {
      const { dir, weights } = await sourceRun(spec(['a', 'b']));
      const outDir = join(sandbox.dir, 'run2');
      const first = await startCoordinator(config(outDir, dir));
      for (const name of ADAPTER) expect(byName(first.coordinator.globalWeights, name)).toEqual(byName(must(weights.get(1)), name));
      await first.stop();

      // The new run's own round 1, then the source disappears: the restart must not need it.
      const model = spec(['a', 'b', 'c']);
      const own = trained(model, 7);
      await new CheckpointStore(join(outDir, 'checkpoints')).save({ ...checkpointOf(own, 1, model), configHash: configHashOf(config(outDir, dir), model, BACKBONE.contentHash) });
      await rm(dir, { recursive: true });
      const restarted = await startCoordinator(config(outDir, dir));
      sandbox.defer(() => restarted.stop());
      expect(restarted.coordinator.globalWeights).toEqual(own);
      await restarted.stop();

      await expect(startCoordinator(config(outDir, join(sandbox.dir, 'elsewhere')))).rejects.toThrow(/was written with config .*; use --fresh or another --out-dir/);
      await expect(startCoordinator(config(outDir))).rejects.toThrow(/was written with config/);
    });
  });
});
