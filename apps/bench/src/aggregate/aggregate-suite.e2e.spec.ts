// The aggregation suite end to end with tiny sizes: one case in a child process (this same command with
// --in-process), its report written and read back with every figure present and positive.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAggregate } from './aggregate-suite';
import type { AggregateReport } from './aggregate-report';

describe('aggregate benchmark', () => {
  let out: string;
  beforeAll(() => (out = mkdtempSync(join(tmpdir(), 'fedtl-aggregate-e2e-'))));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('aggregates 3 updates of 2000 floats in a child process and reports every figure', async () => {
    await runAggregate({ out, clients: [3], floats: [2000], seed: 5, inProcess: false }, 'fedtl bench aggregate (test)');

    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as AggregateReport;
    expect(report.isolation).toBe('child process');
    expect(report.cases).toHaveLength(1);
    const [only] = report.cases;
    expect([only.clients, only.floats]).toEqual([3, 2000]);
    for (const field of ['MBps', 'ceilingMBps', 'ratioToCeiling', 'peakRssMB'] as const) expect(only[field]).toBeGreaterThan(0);
    // FedAvg's next weights are the ceiling's mean, to float32 rounding.
    expect(only.maxAbsDifference).toBeLessThan(1e-8);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain('| 3 | 2000 |');
  }, 60_000);
});
