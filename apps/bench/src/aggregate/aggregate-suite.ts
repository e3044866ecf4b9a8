// `fedtl bench aggregate`: every case (N × P) of aggregate-case.ts, each in a child process of its own (this same
// command with --in-process and that one case), so that each case's peak RSS is its own; written as report.json
// and report.md under --out.
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { FedtlError, fedtlProcessArgs } from '@fedtl/util';
import { machineInfo } from '../machine';
import { startApp } from '../workspace';
import { runAggregateCase, type AggregateCase } from './aggregate-case';
import { AGGREGATE_TARGET_RATIO, memoryFlatness, renderAggregateReport, type AggregateReport } from './aggregate-report';

export interface AggregateSuiteOptions {
  out: string;
  clients: number[];
  floats: number[];
  seed: number;
  inProcess: boolean;
}

/**
 * One case in a child `fedtl bench aggregate --in-process` (started as the bench starts apps, so Ctrl-C stops it
 * too), its result read back from the child's report.json.
 */
async function caseInChild(clients: number, floats: number, seed: number): Promise<AggregateCase> {
  const out = mkdtempSync(join(tmpdir(), 'fedtl-aggregate-'));
  try {
    const args = ['bench', 'aggregate', '--in-process', '--clients', String(clients), '--floats', String(floats), '--seed', String(seed), '--out', out, '--log-level', 'warn'];
    const status = await startApp(fedtlProcessArgs(args), join(out, 'child.log')).exited;
    if (status !== 0) throw new FedtlError('FEDTL_ERR_INTERNAL', `the child of case N=${clients} P=${floats} exited ${status}:\n${readFileSync(join(out, 'child.log'), 'utf8')}`);
    return (JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as AggregateReport).cases[0];
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** Measures every case, writes `<out>/report.json` and `<out>/report.md`, and returns the report. */
export async function runAggregate(options: AggregateSuiteOptions, command: string): Promise<AggregateReport> {
  const start = loadavg();
  const cases: AggregateCase[] = [];
  for (const floats of [...new Set(options.floats)].sort((a, b) => a - b)) {
    for (const clients of [...new Set(options.clients)].sort((a, b) => a - b)) {
      cases.push(options.inProcess ? runAggregateCase(clients, floats, options.seed) : await caseInChild(clients, floats, options.seed));
    }
  }
  const report: AggregateReport = {
    command,
    machine: machineInfo(),
    loadAverage: { start, end: loadavg() },
    isolation: options.inProcess ? 'in process' : 'child process',
    cases,
    memory: memoryFlatness(cases),
    target: { ratioToCeiling: AGGREGATE_TARGET_RATIO, met: cases.every((c) => c.ratioToCeiling >= AGGREGATE_TARGET_RATIO) },
  };
  const out = resolve(options.out);
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'report.json'), JSON.stringify(report, null, 2) + '\n');
  writeFileSync(join(out, 'report.md'), renderAggregateReport(report));
  return report;
}

/** `fedtl bench aggregate`: the markdown to stdout; exit status 0 (the target is reported, not enforced). */
export async function runAggregateSuite(options: AggregateSuiteOptions, command: string): Promise<number> {
  const report = await runAggregate(options, command);
  process.stdout.write(renderAggregateReport(report));
  return 0;
}
