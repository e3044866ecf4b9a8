// `fedtl bench wire`: one Update of P floats from a client to the coordinator over loopback, fedtl's codec and
// transport against a JSON array over the same Socket.IO and against raw TCP (wire-measure.ts), written as
// report.json and report.md under --out.
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { machineInfo } from '../machine';
import { measureWire } from './wire-measure';
import { buildWireReport, renderWireReport, type WireReport } from './wire-report';

export interface WireSuiteOptions {
  out: string;
  floats: number[];
  repetitions: number;
  seed: number;
}

/** Measures, writes `<out>/report.json` and `<out>/report.md`, and returns the report. */
export async function runWire(options: WireSuiteOptions, command: string): Promise<WireReport> {
  const start = loadavg();
  const sizes = [...new Set(options.floats)].sort((a, b) => a - b);
  const measurements = await measureWire(sizes, options.repetitions, options.seed);
  const report = buildWireReport(measurements, { command, machine: machineInfo(), loadAverage: { start, end: loadavg() } });
  const out = resolve(options.out);
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'report.json'), JSON.stringify(report, null, 2) + '\n');
  writeFileSync(join(out, 'report.md'), renderWireReport(report));
  return report;
}

/** `fedtl bench wire`: the markdown to stdout; exit status 0 (the targets are reported, not enforced). */
export async function runWireSuite(options: WireSuiteOptions, command: string): Promise<number> {
  const report = await runWire(options, command);
  process.stdout.write(renderWireReport(report));
  return 0;
}
