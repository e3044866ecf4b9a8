// --adapt-only in process: where the step size comes from, what --save-adapted refuses before any work, the
// few-shot draw on precomputed features, and the errors a new user meets.
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initialWeights, precomputedBackboneRef } from '@fedtl/model';
import { encodeCheckpointFile, type ModelSpec } from '@fedtl/protocol';
import { configureLogging } from '@fedtl/util';
import { useTestSandbox } from '@fedtl/util/testing';
import { parseClientConfig, type ClientConfig } from './config';
import { exitCodeForError } from './exit-codes';
import { runAdaptOnly } from './adapt-only';
import { FIXTURE_DIM, fixtureSplit } from './testing/client-fixtures';

const spec: ModelSpec = { inputDim: FIXTURE_DIM, adapterWidth: 4, head: 'linear', headHidden: 8, labels: ['no', 'yes'] };

describe('--adapt-only', () => {
  const sandbox = useTestSandbox();
  beforeAll(() => configureLogging({ level: 'error' }));

  /** A run directory with one checkpoint, trained (as it records) with `training`. */
  async function runDir(name: string, training?: Record<string, unknown>): Promise<string> {
    const dir = join(sandbox.dir, name);
    await mkdir(join(dir, 'checkpoints'), { recursive: true });
    const meta = { runId: 'r', round: 2, configHash: 'h', createdAt: 'now', model: spec, backbone: precomputedBackboneRef(FIXTURE_DIM), ...(training ? { training } : {}) };
    await writeFile(join(dir, 'checkpoints', 'round-000002.ckpt'), encodeCheckpointFile({ meta, groups: { weights: initialWeights(spec, 3) } }));
    return dir;
  }

  let files = 0;
  /** A precomputed features file: 40 training rows (labelled `labels` when given) and 20 test rows. */
  async function features(labels?: string[]): Promise<string> {
    const rows = (n: number, offset: number) => {
      const s = fixtureSplit(n + offset, 0.5);
      return { features: Array.from({ length: n }, (_, i) => Array.from(s.features.subarray((i + offset) * FIXTURE_DIM, (i + offset + 1) * FIXTURE_DIM))), labels: s.labels.slice(offset) };
    };
    const path = join(sandbox.dir, `f-${(files++).toString()}.json`);
    await writeFile(path, JSON.stringify({ dim: FIXTURE_DIM, train: { ...rows(40, 0), ...(labels ? { labels } : {}) }, test: rows(20, 40) }));
    return path;
  }

  const configOf = (args: string[]): ClientConfig & { adaptOnly: NonNullable<ClientConfig['adaptOnly']> } => {
    const config = parseClientConfig([...args, '--backbone', `precomputed:${FIXTURE_DIM}`, '--backend', 'cpu', '--log-level', 'error']);
    if (!config.adaptOnly) throw new Error('expected an --adapt-only config');
    return config as ClientConfig & { adaptOnly: NonNullable<ClientConfig['adaptOnly']> };
  };
  const run = (args: string[]) => {
    const config = configOf(args);
    return runAdaptOnly(config, config.adaptOnly);
  };

  it("takes the run's Per-FedAvg α as its step size, else the flag, else the default; draws --train-limit of precomputed rows", async () => {
    const data = await features();
    const before = tf.memory().numTensors;
    const meta = await run(['--adapt-only', '--init-from', await runDir('meta', { strategy: 'PerFedAvg', metaInnerLearningRate: 0.3 }), '--features', data, '--train-limit', '8']);
    expect(tf.memory().numTensors).toBe(before);
    expect(meta).toMatchObject({ learningRate: 0.3, learningRateFrom: "the run's Per-FedAvg α", trainExamples: 8, testExamples: 20, steps: 10, round: 2 });
    expect(meta.after?.accuracy).toBeGreaterThan(0.5);
    const plain = await run(['--adapt-only', '--init-from', await runDir('plain', { strategy: 'FedAvg' }), '--features', data]);
    expect(plain).toMatchObject({ learningRate: 0.01, learningRateFrom: 'the default', trainExamples: 40 });
    const flagged = await run(['--adapt-only', '--init-from', await runDir('flagged', { strategy: 'PerFedAvg', metaInnerLearningRate: 0.3 }), '--features', data, '--adapt-learning-rate', '0.05']);
    expect(flagged).toMatchObject({ learningRate: 0.05, learningRateFrom: '--adapt-learning-rate' });
  });

  it('refuses a --save-adapted target before any work: an existing file (a run checkpoint too), a round-NNNNNN.ckpt name, a missing directory', async () => {
    const dir = await runDir('save');
    const data = await features();
    const checkpoint = join(dir, 'checkpoints', 'round-000002.ckpt');
    for (const [target, message] of [
      [checkpoint, '--save-adapted: expected a new file (it never overwrites)'],
      [join(dir, 'checkpoints'), 'which exists as a directory'],
      [join(dir, 'checkpoints', 'round-000003.ckpt'), 'expected a name other than round-NNNNNN.ckpt'],
      [join(dir, 'nowhere', 'x.ckpt'), 'expected a file in an existing directory'],
    ]) {
      await expect(run(['--adapt-only', '--init-from', dir, '--features', data, '--save-adapted', target])).rejects.toMatchObject({ code: 'FEDTL_ERR_BAD_CONFIG', message: expect.stringContaining(message) });
    }
    expect((await readdir(join(dir, 'checkpoints'))).sort()).toEqual(['round-000002.ckpt']);
    const saved = join(sandbox.dir, 'mine.ckpt');
    await expect(run(['--adapt-only', '--init-from', dir, '--features', data, '--save-adapted', saved])).resolves.toMatchObject({ savedTo: saved });
    // The saved file is a checkpoint --init-from reads (it names no round of a run).
    await expect(run(['--adapt-only', '--init-from', saved, '--features', data])).resolves.toMatchObject({ source: saved });
  });

  it('says what is wrong, with the exit status of a configuration error, for unknown labels and unreadable sources', async () => {
    const dir = await runDir('errors');
    const unknown = await run(['--adapt-only', '--init-from', dir, '--features', await features(Array.from({ length: 40 }, () => 'maybe'))]).catch((err) => err);
    expect(unknown).toMatchObject({ code: 'FEDTL_ERR_UNKNOWN_LABEL', message: expect.stringContaining('"maybe" is not in the federation\'s label set') });
    expect(exitCodeForError(unknown)).toBe(2);
    const odd = join(sandbox.dir, 'odd');
    await mkdir(join(odd, 'round-000009.ckpt'), { recursive: true });
    await expect(run(['--adapt-only', '--init-from', odd, '--features', await features()])).rejects.toMatchObject({ code: 'FEDTL_ERR_BAD_CONFIG', message: expect.stringContaining('--init-from: expected a readable checkpoint file') });
    await expect(run(['--adapt-only', '--init-from', dir, '--features', await features(), '--adapt-learning-rate', '1e30'])).rejects.toMatchObject({
      code: 'FEDTL_ERR_DIVERGED', message: expect.stringContaining('give a smaller --adapt-learning-rate'),
    });
  });
});
