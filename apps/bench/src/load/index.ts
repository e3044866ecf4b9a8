// `fedtl bench load …`: N simulated clients over real sockets against one coordinator process; reports
// throughput, latency, bytes and the coordinator's peak memory for each N at two model sizes.
import { writeFile } from 'node:fs/promises';
import { configureLogging, createLogger } from '@fedtl/util';
import type { ResolvedOptions } from '@fedtl/util/options';
import { loadOptionsFrom, type LOAD_OPTIONS, type LoadOptions } from './load-options';
import { formatLoadReport } from './load-report';
import { runScenario, type ScenarioResult } from './load-scenario';
import { machineInfo, type MachineInfo } from '../machine';
import { analyseMemoryScaling, type MemoryScaling } from './memory-scaling';

export type { LoadOptions } from './load-options';
export type { ScenarioResult } from './load-scenario';
export type { MemoryScaling } from './memory-scaling';

export interface LoadSuiteResult {
  machine: MachineInfo;
  options: LoadOptions;
  scenarios: ScenarioResult[];
  memoryScaling: MemoryScaling;
  /** Every scenario completed its rounds without client errors, and memory did not scale with N x model. */
  ok: boolean;
}

const log = createLogger('bench-load');

/** Runs the scenarios one after the other: side by side they would skew each other's memory and latency. */
export async function measureLoad(options: LoadOptions): Promise<LoadSuiteResult> {
  const scenarios: ScenarioResult[] = [];
  for (const adapterWidth of [options.adapterWidth, options.compareAdapterWidth]) {
    for (const clients of options.clients) {
      log.info('scenario started', { clients, adapterWidth, rounds: options.rounds, dim: options.dim });
      const result = await runScenario({ clients, adapterWidth, rounds: options.rounds, dim: options.dim, seed: options.seed, connectBatch: options.connectBatch });
      log.info('scenario finished', { clients, adapterWidth, roundsPerMinute: result.roundsPerMinute, peakRssBytes: result.peakRssBytes, clientErrors: result.clientErrors.length });
      scenarios.push(result);
    }
  }
  const memoryScaling = analyseMemoryScaling(scenarios);
  const complete = scenarios.every((s) => s.roundsCompleted === s.rounds && s.clientErrors.length === 0);
  return { machine: machineInfo(), options, scenarios, memoryScaling, ok: complete && memoryScaling.growsWithModelNotClients !== false };
}

/** `fedtl bench load` with its resolved options: markdown to stdout, JSON to --out; 0 only when the result is ok. */
export async function runLoadSuite(resolved: ResolvedOptions<typeof LOAD_OPTIONS>): Promise<number> {
  configureLogging({ level: resolved.values.logLevel, format: resolved.values.logFormat });
  const options = loadOptionsFrom(resolved.values);
  const result = await measureLoad(options);
  process.stdout.write(formatLoadReport(result.machine, result.scenarios, result.memoryScaling));
  if (options.out) await writeFile(options.out, JSON.stringify(result, null, 2) + '\n');
  return result.ok ? 0 : 1;
}
