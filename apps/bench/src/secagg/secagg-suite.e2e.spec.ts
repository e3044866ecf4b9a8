// The secure-aggregation benchmark end to end with --quick: real coordinator processes (plain and
// --secure-aggregation), four simulated clients over real sockets, one dropping out; every round aggregated,
// the report's rows written, nothing left running.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { configureLogging } from '@fedtl/util';
import { useTestSandbox } from '@fedtl/util/testing';
import type { SecAggBenchReport } from './secagg-suite';
import { runSecAggSuite } from './secagg-suite';
import { commandLine } from '../testing/command-line';
import { SECAGG_OPTIONS } from './secagg-options';

describe('secagg benchmark', () => {
  const sandbox = useTestSandbox();
  beforeAll(() => configureLogging({ level: 'warn' }));

  it('measures plain FedAvg and secure aggregation side by side, with a dropout, and writes report.json and report.md', async () => {
    const out = join(sandbox.dir, 'out');
    const write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    let code: number;
    try {
      code = await runSecAggSuite(commandLine(SECAGG_OPTIONS, ['--quick', '--dim', '64', '--adapter-width', '8', '--train-delay-ms', '50', '--out', out, '--log-level', 'warn']));
    } finally {
      write.mockRestore();
    }
    expect(code).toBe(0);
    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as SecAggBenchReport;
    expect(report.results.map((r) => [r.mode, r.clients, r.dropoutFraction, r.dropped])).toEqual([
      ['plain', 4, 0, 0], ['secagg', 4, 0, 0], ['plain', 4, 0.3, 1], ['secagg', 4, 0.3, 1],
    ]);
    for (const r of report.results) {
      expect(r.clientErrors).toEqual([]);
      expect(r.aggregatedRounds).toBe(1);
      expect(r.acceptedPerRound).toEqual([4 - r.dropped]);
      expect(r.secondsPerRound).toBeGreaterThan(0);
      expect(r.bytesUpPerClient).toBeGreaterThan(4 * r.modelFloats);
    }
    // The SecAgg rounds aggregated with the coordinator's own record saying so, the dropped client's mask rebuilt.
    const metrics = (await readFile(join(out, 'runs', 'secagg-n4-d30', 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { status: string; accepted: string[] });
    expect(metrics.at(-1)).toMatchObject({ status: 'aggregated' });
    expect(metrics.at(-1)?.accepted).toHaveLength(3);
    const secagg = report.results.find((r) => r.mode === 'secagg' && r.dropped === 1);
    expect(secagg?.bytesByEvent['secagg-masked-input']?.up).toBeGreaterThan(4 * (secagg?.modelFloats ?? 0));
    expect(secagg?.clientCpuMs?.mask).toBeGreaterThan(0);
    const markdown = await readFile(join(out, 'report.md'), 'utf8');
    expect(markdown).toContain('upload expansion');
    expect(markdown).toContain('1.73x');
  }, 90_000);
});
