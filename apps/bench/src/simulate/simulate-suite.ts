// `fedtl bench simulate` (issue 14, item 5): a federation of many virtual clients on one machine before real
// organisations are recruited — Flower's simulation engine for fedtl. Reads a labelled dataset, embeds every text
// once with one backbone (the feature cache and its worker pool), splits the rows among N virtual clients by a
// Dirichlet label split or by a field, lays the features out once in shared memory, and runs the federation
// (simulation-run.ts) against the real coordinator process. Writes report.json and report.md under --out and
// prints the markdown.
import { mkdir, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import { join, resolve } from 'node:path';
import { backboneRefFor, PRECOMPUTED_PREFIX } from '@fedtl/model';
import { configError, configureLogging, createLogger, FedtlError } from '@fedtl/util';
import type { ResolvedOptions } from '@fedtl/util/options';
import { benchCommand } from '../bench-command';
import { embedOnce } from '../domains/feature-store';
import { machineInfo } from '../machine';
import { partitionRows } from './client-partition';
import { describePartition } from './partition-spec';
import { sharedFeatureTable } from './shared-features';
import { dominantMemory, dominantTime, formatSimulateReport, metTarget, TARGET, type SimulateReport } from './simulate-report';
import { SIMULATE_OPTIONS, simulateOptionsFrom, type SimulateOptions } from './simulate-options';
import { readSimulationData } from './simulation-data';
import { runSimulation } from './simulation-run';

const log = createLogger('bench-simulate');

/** Prepares the data and runs the simulation; the report, not yet written. */
export async function simulate(options: SimulateOptions, command: string): Promise<SimulateReport> {
  if (options.backbone.startsWith(PRECOMPUTED_PREFIX)) {
    throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `--backbone: expected a backbone that embeds text (use-lite, tfjs-model:DIR), got "${options.backbone}"`);
  }
  const loadAtStart = os.loadavg();
  const started = performance.now();
  const since = (t: number) => (performance.now() - t) / 1000;

  const readStarted = performance.now();
  const data = await readSimulationData(options.data, {
    ...(options.partition.kind === 'field' ? { groupField: options.partition.field } : {}),
    testFraction: options.testFraction,
    seed: options.seed,
  });
  const read = since(readStarted);
  log.info('data read', { train: data.train.length, test: data.test.length, labels: data.labels, files: data.files });
  if (data.labels.length < 2) throw configError('--data', 'rows of at least two distinct labels (the classes the federation learns)', data.labels);

  // The rows are dealt before anything is embedded (minutes): what the partition refuses (more clients than rows,
  // fewer clients than field values) comes at once.
  let partitionStarted = performance.now();
  const parts = partitionRows(
    data.train.map((row) => row.label),
    data.trainGroups,
    options.partition,
    options.clients,
    options.seed,
  );
  let partition = since(partitionStarted);

  const embedStarted = performance.now();
  const backbone = await backboneRefFor(options.backbone);
  const texts = [...new Set([...data.train, ...data.test].map((row) => row.text))];
  const store = await embedOnce(texts, backbone, options.backbone, resolve(options.cacheDir), options.embedThreads ?? 0);
  const embed = since(embedStarted);

  partitionStarted = performance.now();
  const labelIndex = (label: string) => data.labels.indexOf(label);
  const { table, ranges } = sharedFeatureTable((row) => store.featuresOf(data.train[row].text), data.train.map((row) => labelIndex(row.label)), backbone.dim, parts);
  const test = sharedFeatureTable((row) => store.featuresOf(data.test[row].text), data.test.map((row) => labelIndex(row.label)), backbone.dim, [data.test.map((_, i) => i)]).table;
  partition += since(partitionStarted);

  const result = await runSimulation({
    backboneSpec: options.backbone,
    backbone,
    labels: data.labels,
    train: table,
    ranges,
    ...(data.test.length > 0 ? { test } : {}),
    clientsPerRound: options.clientsPerRound,
    rounds: options.rounds,
    seed: options.seed,
    ...(options.workers === undefined ? {} : { workers: options.workers }),
    connectBatch: options.connectBatch,
    model: options.model,
    training: options.training,
  });
  const totalSeconds = since(started);
  const preparationSeconds = { read, embed, partition };
  return {
    command,
    machine: machineInfo(),
    loadAverage: { start: loadAtStart, end: os.loadavg() },
    data: {
      files: data.files,
      partition: describePartition(options.partition),
      trainRows: data.train.length,
      testRows: data.test.length,
      testSource: data.testSource,
      labels: data.labels,
      embedding: store.summary,
    },
    preparationSeconds,
    result,
    totalSeconds,
    target: { ...TARGET, met: metTarget(result, totalSeconds) },
    dominant: { time: dominantTime(result, preparationSeconds), memory: dominantMemory(result, store.summary.computed) },
  };
}

/** `fedtl bench simulate` with its resolved options: report.json and report.md under --out; 0 when every round completed. */
export async function runSimulateSuite(resolved: ResolvedOptions<typeof SIMULATE_OPTIONS>): Promise<number> {
  configureLogging({ level: resolved.values.logLevel, format: resolved.values.logFormat });
  const options = simulateOptionsFrom(resolved.values);
  const report = await simulate(options, benchCommand('simulate', SIMULATE_OPTIONS, resolved));
  const markdown = formatSimulateReport(report);
  await mkdir(options.out, { recursive: true });
  await writeFile(join(options.out, 'report.json'), JSON.stringify(report, null, 2) + '\n');
  await writeFile(join(options.out, 'report.md'), markdown);
  process.stdout.write(markdown);
  const r = report.result;
  return r.verdict === 'finished' && r.roundsCompleted === r.roundsPlanned && r.clientErrors.length === 0 ? 0 : 1;
}
