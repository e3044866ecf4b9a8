// The aggregation benchmark's report: per case the fields (clients, floats, MBps, ceilingMBps,
// ratioToCeiling, peakRssMB), the memory's flatness in N, and the target. report.json holds it, report.md says it.
import { describeMachine, type MachineInfo } from '../machine';
import type { AggregateCase } from './aggregate-case';

/** The target: the real aggregation at least this share of the plain loop's speed. */
export const AGGREGATE_TARGET_RATIO = 0.8;

/** Peak memory against N at one P: flat when the most clients cost no more than a few MiB over the fewest. */
export interface MemoryFlatness {
  floats: number;
  fromClients: number;
  toClients: number;
  fromPeakRssMB: number;
  toPeakRssMB: number;
  /** toPeakRssMB − fromPeakRssMB, against what holding every extra update would take. */
  growthMB: number;
  extraUpdatesMB: number;
  /** The growth is less than a quarter of what holding the extra updates would take. */
  flat: boolean;
}

/** Peak memory is flat in N when the extra updates raise it by less than this share of their own size. */
const FLAT_SHARE = 0.25;

export interface AggregateReport {
  command: string;
  machine: MachineInfo;
  loadAverage: { start: number[]; end: number[] };
  /** 'child process': one process per case, so a case's peak RSS is its own; 'in process': cumulative. */
  isolation: 'child process' | 'in process';
  cases: AggregateCase[];
  memory: MemoryFlatness[];
  target: { ratioToCeiling: number; met: boolean };
}

const MIB = 2 ** 20;

/** Per P measured at two or more N: the peak RSS at the fewest and the most clients, and whether it stayed flat. */
export function memoryFlatness(cases: readonly AggregateCase[]): MemoryFlatness[] {
  const sizes = [...new Set(cases.map((c) => c.floats))].sort((a, b) => a - b);
  return sizes.flatMap((floats) => {
    const runs = cases.filter((c) => c.floats === floats).sort((a, b) => a.clients - b.clients);
    const [from, to] = [runs[0], runs[runs.length - 1]];
    if (from === to) return [];
    const growthMB = to.peakRssMB - from.peakRssMB;
    const extraUpdatesMB = ((to.clients - from.clients) * floats * 4) / MIB;
    return [{
      floats,
      fromClients: from.clients,
      toClients: to.clients,
      fromPeakRssMB: from.peakRssMB,
      toPeakRssMB: to.peakRssMB,
      growthMB,
      extraUpdatesMB,
      flat: growthMB < FLAT_SHARE * extraUpdatesMB,
    }];
  });
}

const fixed = (value: number, digits: number) => value.toFixed(digits);
const load = (values: number[]) => values.map((v) => v.toFixed(2)).join(' / ');

/** The report as markdown: one row per case, the memory's flatness in N, and the target. */
export function renderAggregateReport(report: AggregateReport): string {
  const lines = [
    '# Aggregation: N updates of P floats, streamed into FedAvg',
    '',
    `Machine: ${describeMachine(report.machine)}. Load average (1/5/15 min): ${load(report.loadAverage.start)} at the start, ${load(report.loadAverage.end)} at the end.`,
    `Command: \`${report.command}\`. Each case runs ${report.isolation === 'child process' ? 'in a child process of its own' : 'in this one process'}; MB/s = 4 × P bytes (10^6 a MB) over the median time of one update.`,
    '',
    "fedtl: each update is encoded and decoded by the protocol codec, then added to FedAvg's round aggregator (`FedAvg.beginRound(…).add`, as",
    "the coordinator's RoundCollector does: layout and finiteness checks, then a float64 weighted sum) and dropped. Ceiling: a plain",
    'Float64Array multiply-add loop over the same decoded values, timed update by update in turn with fedtl. Peak RSS is the',
    "process's high-water mark: the codec's buffers for one update, FedAvg's float64 sums and the ceiling's own float64 sums.",
    '',
    '| N (clients) | P (floats) | fedtl MB/s | ceiling MB/s | fedtl / ceiling | finish ms | baseline RSS MiB | peak RSS MiB | max abs diff |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...report.cases.map(
      (c) =>
        `| ${c.clients} | ${c.floats} | ${fixed(c.MBps, 0)} | ${fixed(c.ceilingMBps, 0)} | ${fixed(c.ratioToCeiling, 2)} | ${fixed(c.finishMs, 1)} | ${fixed(c.baselineRssMB, 0)} | ${fixed(c.peakRssMB, 0)} | ${c.maxAbsDifference.toExponential(1)} |`,
    ),
    '',
    ...report.memory.map(
      (m) =>
        `- P = ${m.floats}: from ${m.fromClients} to ${m.toClients} updates, peak RSS went from ${fixed(m.fromPeakRssMB, 0)} to ${fixed(m.toPeakRssMB, 0)} MiB ` +
        `(${m.growthMB >= 0 ? '+' : ''}${fixed(m.growthMB, 0)} MiB), where holding the extra updates would take ${fixed(m.extraUpdatesMB, 0)} MiB: ` +
        (m.flat ? 'memory is O(P), flat in N.' : `NOT flat in N (the limit is a quarter of that).`),
    ),
    '',
    `Target: fedtl ≥ ${report.target.ratioToCeiling} of the ceiling in every case: ${report.target.met ? 'met' : 'MISSED'}.`,
    '',
  ];
  return lines.join('\n');
}
