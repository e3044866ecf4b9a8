// End to end on the two tiny fixture domains with --quick, every federation real (the coordinator and one client
// process per domain): record-level rows with and without DP-SGD, the client-level simulation, the overhead
// comparison with and without secure aggregation, and the report files. The coordinator's own ledger must report
// an ε within each DP run's target (it is also the run's budget, so a miscalibrated σ would fail the run).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { useTestSandbox } from '@fedtl/util/testing';
import { writeFixtureDomains } from '../testing/fixture-domains';
import { runPrivacySuite } from './privacy-suite';
import type { PrivacyReport } from './privacy-report';
import { commandLine } from '../testing/command-line';
import { PRIVACY_OPTIONS } from './privacy-options';

describe('bench privacy', () => {
  const sandbox = useTestSandbox();

  it('runs --quick and writes report.json and report.md with the record-level, client-level and overhead tables', async () => {
    await writeFixtureDomains(sandbox.dir, 12, 6);
    const out = join(sandbox.dir, 'out');
    const code = await runPrivacySuite(commandLine(PRIVACY_OPTIONS, [
      '--data-dir', sandbox.dir, '--out', out, '--cache-dir', join(sandbox.dir, 'cache'), '--quick',
      '--adapter-width', '8', '--embed-threads', '1', '--log-level', 'warn',
    ]));
    expect(code).toBe(0);
    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as PrivacyReport;
    expect(report).toMatchObject({ suite: 'privacy', domains: ['books', 'kitchen'], rounds: 2, delta: 1e-5, seeds: [1], evaluatedOn: 'test' });

    expect(report.recordLevel.map((r) => [r.labelsPerClient, r.strategy, r.epsilon])).toEqual([[8, 'fedavg', null], [8, 'fedavg', 4]]);
    for (const row of report.recordLevel) {
      expect(Object.keys(row.perDomain)).toEqual(['books', 'kitchen']);
      expect(row.runs.map((r) => r.seed)).toEqual([1]);
      if (row.epsilon === null) {
        expect(row.noiseMultiplier).toBeNull();
        expect(row.spentEpsilon).toBeNull();
      } else {
        // 8 examples, batch 16: q = 1, one step an epoch, 2 rounds.
        expect(row).toMatchObject({ samplingRate: 1, steps: 2 });
        expect(row.noiseMultiplier).toBeGreaterThan(0);
        expect(row.spentEpsilon).toBeGreaterThan(0.9 * row.epsilon);
        expect(row.spentEpsilon).toBeLessThanOrEqual(row.epsilon);
      }
    }

    const client = report.clientLevel;
    expect(client?.simulated).toBe(true);
    expect(client?.settings).toMatchObject({ clients: 6, rounds: 3, samplingRate: 0.5 });
    expect(client?.clientExamples.min).toBeGreaterThanOrEqual(1);
    expect(client?.medianUpdateNorm).toBeGreaterThan(0);
    expect(client?.rows.map((r) => [r.strategy, r.epsilon])).toEqual([['fedavg', null], ['fedavg', 4]]);
    for (const row of client?.rows ?? []) {
      if (row.epsilon !== null) expect(row.spentEpsilon).toBeLessThanOrEqual(row.epsilon);
    }

    const overhead = report.overhead;
    expect(overhead).toMatchObject({ labelsPerClient: 8, epsilon: 4, clientSamplingRate: 1 });
    expect(overhead?.rows.map((r) => r.name)).toEqual(['fedavg', 'record-dp', 'client-dp', 'client-dp-secagg']);
    for (const row of overhead?.rows ?? []) {
      expect(row.secondsPerRound).toBeGreaterThan(0);
      expect(row.bytesUpPerRound).toBeGreaterThan(0);
      if (row.name !== 'fedavg') expect(row.spentEpsilon).toBeLessThanOrEqual(4);
    }

    const markdown = await readFile(join(out, 'report.md'), 'utf8');
    expect(markdown).toContain('| 8 | fedavg | 4 |');
    expect(markdown).toContain('**Simulated in the bench process, no sockets:**');
    expect(markdown).toContain('| client-level DP-FedAvg + secure aggregation |');
    expect(markdown).toContain('Command: `fedtl bench privacy --data-dir');
  }, 240_000);
});
