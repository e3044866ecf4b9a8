// End to end on two tiny fixture domains: per seed a real sentiment federation, then a real rating federation
// started with --init-from it and one from scratch (coordinator and client processes over Socket.IO on
// 127.0.0.1, port 0), and the report files.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { initialWeights } from '@fedtl/model';
import type { NamedTensor } from '@fedtl/protocol';
import { useTestSandbox } from '@fedtl/util/testing';
import { checkpointPath, readCheckpointWeights } from '../domains/checkpoint-reader';
import { writeFixtureDomains } from '../testing/fixture-domains';
import type { CrossTaskReport } from './cross-task-report';
import { runDirOf } from './cross-task-run';
import { runCrossTaskSuite } from './cross-task-suite';
import { commandLine } from '../testing/command-line';
import { CROSS_TASK_OPTIONS } from './cross-task-options';

const ADAPTER_WIDTH = 8;

/** Euclidean distance between the adapter tensors of two weight lists. */
function adapterDistance(a: readonly NamedTensor[], b: readonly NamedTensor[]): number {
  let sum = 0;
  for (const tensor of a.filter((t) => t.name.startsWith('adapter/'))) {
    const other = b.find((t) => t.name === tensor.name);
    if (!other) throw new Error(`no ${tensor.name} on the other side`);
    tensor.data.forEach((value, i) => (sum += (value - other.data[i]) ** 2));
  }
  return Math.sqrt(sum);
}

describe('bench cross-task', () => {
  const sandbox = useTestSandbox();

  it('runs source, init-from and scratch federations per seed and writes report.json and report.md', async () => {
    await writeFixtureDomains(sandbox.dir);
    const out = join(sandbox.dir, 'out');
    const code = await runCrossTaskSuite(commandLine(CROSS_TASK_OPTIONS, [
      '--data-dir', sandbox.dir, '--out', out, '--cache-dir', join(sandbox.dir, 'cache'), '--seeds', '1,2', '--source-labels-per-client', '12',
      '--labels-per-client', '8', '--rounds', '2', '--adapter-width', String(ADAPTER_WIDTH), '--batch-size', '4', '--embed-threads', '1', '--log-level', 'warn',
    ]));
    expect(code).toBe(0);
    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as CrossTaskReport;
    expect(report).toMatchObject({ suite: 'cross-task', domains: ['books', 'kitchen'], seeds: [1, 2], rounds: 2, evaluatedOn: 'test' });
    expect(report.source).toMatchObject({ task: 'sentiment', labels: ['negative', 'positive'], labelsPerClient: 12 });
    expect(report.target).toEqual({ task: 'rating', labels: ['1', '2', '4', '5'], labelsPerClient: [8] });
    expect(report.reference.chance).toBe(0.25);
    // Test files of 6 reviews rated 5, 4, 5 and 1, 2, 1: "1" and "5" tie at 2 of 6, and the tie goes to "1".
    expect(report.reference.majorityClass.books).toEqual({ label: '1', accuracy: 2 / 6 });
    expect(report.rows.map((row) => [row.labelsPerClient, row.init])).toEqual([[8, 'init-from'], [8, 'scratch']]);
    for (const row of report.rows) {
      expect(row.accuracy.n).toBe(2);
      expect(row.macroF1.n).toBe(2);
      for (const value of [row.accuracy.mean, row.macroF1.mean]) expect(value).toBeGreaterThanOrEqual(0);
      expect(row.accuracy.std).toBeGreaterThanOrEqual(0);
      expect(Object.keys(row.perDomain)).toEqual(['books', 'kitchen']);
      expect(row.curve).toHaveLength(2);
    }
    const [difference] = report.differences;
    expect(difference.accuracy.n).toBe(2);
    expect(difference.perSeed).toHaveLength(2);
    expect(difference.initFromBetterIn).toBeGreaterThanOrEqual(0);
    expect(report.perSeed.map((s) => s.seed)).toEqual([1, 2]);
    expect(report.embedding.computed).toBe(report.embedding.texts);
    expect(report.seconds).toBeGreaterThan(0);
    expect(report.command).toContain('fedtl bench cross-task --data-dir');

    // The init-from run started from the source's final adapter, the scratch run from the fresh one: after one
    // round each is nearer its own start than the other's. Both rating runs share the seed, so the fresh start is
    // the model's initialisation with that seed.
    for (const seed of [1, 2]) {
      const runsDir = join(out, 'runs', `seed-${seed}`);
      const source = await readCheckpointWeights(checkpointPath(runDirOf(runsDir, 'source'), 2));
      const fresh = initialWeights({ inputDim: 512, adapterWidth: ADAPTER_WIDTH, head: 'linear', headHidden: 64, labels: ['1', '2', '4', '5'] }, seed);
      const initFrom = await readCheckpointWeights(checkpointPath(runDirOf(runsDir, { labelsPerClient: 8, init: 'init-from' }), 1));
      const scratch = await readCheckpointWeights(checkpointPath(runDirOf(runsDir, { labelsPerClient: 8, init: 'scratch' }), 1));
      expect(adapterDistance(initFrom, source)).toBeLessThan(adapterDistance(initFrom, fresh));
      expect(adapterDistance(scratch, fresh)).toBeLessThan(adapterDistance(scratch, source));
      // The head's output layer has one row per rating: it was re-initialised, not carried over from sentiment.
      expect(initFrom.find((t) => t.name === 'head/out/kernel')?.shape).toEqual([512, 4]);
    }

    const markdown = await readFile(join(out, 'report.md'), 'utf8');
    expect(markdown).toContain('| 8 | init-from |');
    expect(markdown).toContain('| 8 | scratch |');
    expect(markdown).toContain('init-from − scratch, paired by seed');
  });
});
