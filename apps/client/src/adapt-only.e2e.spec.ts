// Meta-learning end to end: a real coordinator runs --strategy per-fedavg with two client processes' worth of
// clients over real sockets; then a third organisation, which never joined, runs the real client process with
// --adapt-only on the run directory. It adapts the published model to its own (shifted) domain from its
// labelled examples, prints the accuracy before and after, saves the adapted weights, and exits 0 without
// opening any connection (the coordinator is gone by then: there is nothing to connect to).
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeCheckpointFile } from '@fedtl/protocol';
import { configureLogging } from '@fedtl/util';
import { spawnFedtl, useTestSandbox, waitFor } from '@fedtl/util/testing';
import { FIXTURE_DIM, fixtureSplit, startFixtureClient, startFixtureCoordinator } from './testing/client-fixtures';

const readCheckpointFile = async (path: string) => decodeCheckpointFile(await readFile(path), path);

describe('--adapt-only after a Per-FedAvg federation', () => {
  const sandbox = useTestSandbox();

  beforeAll(() => configureLogging({ level: 'error' }));

  it('adapts the run\'s newest checkpoint to a new domain locally, saves it and exits 0', async () => {
    const { port, process: coordinator } = await startFixtureCoordinator(sandbox, 3, ['--strategy', 'per-fedavg', '--meta-inner-learning-rate', '0.3']);
    const a = startFixtureClient(sandbox, port, 'org-a', 0.3);
    const b = startFixtureClient(sandbox, port, 'org-b', -0.3);
    await Promise.all([waitFor(a, 'finished', 120_000), waitFor(b, 'finished', 120_000)]);
    expect(await coordinator.exited).toBe(0);

    // The newcomer: 8 labelled examples of a domain shifted further than either member's, 40 to test on.
    const split = (n: number, offset: number) => {
      const s = fixtureSplit(n + offset, 1.2);
      const rows = Array.from({ length: n }, (_, i) => Array.from(s.features.subarray((i + offset) * FIXTURE_DIM, (i + offset + 1) * FIXTURE_DIM)));
      return { features: rows, labels: s.labels.slice(offset, offset + n) };
    };
    const features = join(sandbox.dir, 'newcomer.json');
    await writeFile(features, JSON.stringify({ dim: FIXTURE_DIM, train: split(8, 0), test: split(40, 8) }));
    const saved = join(sandbox.dir, 'adapted.ckpt');
    const adapt = spawnFedtl([
      'client', '--adapt-only', '--init-from', join(sandbox.dir, 'out'), '--features', features, '--backbone', `precomputed:${FIXTURE_DIM}`,
      '--steps', '10', '--save-adapted', saved, '--backend', 'cpu', '--log-level', 'warn',
    ]);
    sandbox.processes.push(adapt);
    expect(await adapt.exited).toBe(0);
    const output = adapt.output();
    // The step size is the run's α, read from the checkpoint.
    expect(output).toMatch(/adapted .*round-000003\.ckpt \(round 3, labels no,yes\) with 10 sgd steps of 0\.3 \(the run's Per-FedAvg α\) on 8 labelled examples/);
    expect(output).toMatch(/test accuracy on 40 examples: \d+\.\d % before, \d+\.\d % after/);
    expect(output).toContain('nothing was sent: --adapt-only opens no connection');
    const file = await readCheckpointFile(saved);
    expect(file.meta).toMatchObject({ runId: 'adapt-only', round: 3, adaptation: { steps: 10, learningRate: 0.3, optimizer: 'sgd' }, model: { labels: ['no', 'yes'] } });
    const original = await readCheckpointFile(join(sandbox.dir, 'out', 'checkpoints', 'round-000003.ckpt'));
    const moved = file.groups.weights.some((t, i) => t.data.some((v, j) => v !== original.groups.weights[i].data[j]));
    expect(moved).toBe(true);
  }, 240_000);

  it('refuses a missing run directory with exit 2, naming --init-from', async () => {
    const features = join(sandbox.dir, 'f.json');
    await writeFile(features, JSON.stringify({ dim: FIXTURE_DIM, train: { features: [[0, 0, 0, 0, 0, 0, 0, 0]], labels: ['no'] }, test: { features: [], labels: [] } }));
    const adapt = spawnFedtl(['client', '--adapt-only', '--init-from', join(sandbox.dir, 'nowhere'), '--features', features, '--backbone', `precomputed:${FIXTURE_DIM}`]);
    sandbox.processes.push(adapt);
    expect(await adapt.exited).toBe(2);
    expect(adapt.output()).toMatch(/FEDTL_ERR_BAD_CONFIG: --init-from: expected an existing checkpoint file or run directory/);
  }, 60_000);
});
