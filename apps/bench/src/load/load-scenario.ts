// One load scenario: a coordinator process, N simulated clients over real sockets, R rounds of one model size.
// Reads the coordinator's own metrics.jsonl for latency and bytes, and samples its memory from outside.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { precomputedBackboneRef, trainableTensorSpecs } from '@fedtl/model';
import { makeTempDir } from '@fedtl/util/testing';
import { startCoordinatorProcess, type CoordinatorProcess } from './coordinator-process';
import { MemorySampler, readMemory } from './memory-sampler';
import { SimulatedClient } from './simulated-client';
import { median, percentile } from './statistics';

export interface ScenarioSpec {
  clients: number;
  rounds: number;
  dim: number;
  adapterWidth: number;
  seed: number;
  connectBatch: number;
}

export interface ScenarioResult extends ScenarioSpec {
  /** Trainable parameters and their float32 bytes: what one plan or one update carries. */
  modelParameters: number;
  modelBytes: number;
  roundsCompleted: number;
  roundsPerMinute: number;
  /** The coordinator's RSS once listening, before any client connected. */
  idleRssBytes: number;
  peakRssBytes: number;
  latencySeconds: { median: number; p95: number };
  /** Payload bytes both ways (plans, updates, evaluation requests and reports) per round, on average. */
  bytesPerRound: number;
  /** Everything the simulated clients saw go wrong; a correct run has none. */
  clientErrors: string[];
}

interface RoundRecordFields {
  round: number;
  status: 'aggregated' | 'failed';
  bytesUp: number;
  bytesDown: number;
  seconds: number;
  finishedAt: string;
}

const LABELS = ['a', 'b'];
const ACK_TIMEOUT_MS = 300_000;

export async function runScenario(spec: ScenarioSpec): Promise<ScenarioResult> {
  const temp = await makeTempDir('fedtl-load-');
  const clients: SimulatedClient[] = [];
  let coordinator: CoordinatorProcess | undefined;
  let sampler: MemorySampler | undefined;
  try {
    coordinator = await startCoordinatorProcess({ outDir: temp.dir, clients: spec.clients, rounds: spec.rounds, dim: spec.dim, adapterWidth: spec.adapterWidth, labels: LABELS });
    sampler = new MemorySampler(coordinator.pid);
    const idleRssBytes = readMemory(coordinator.pid)?.rssBytes ?? NaN;
    const backbone = precomputedBackboneRef(spec.dim);
    for (let first = 0; first < spec.clients; first += spec.connectBatch) {
      const url = coordinator.url;
      const batch = Array.from({ length: Math.min(spec.connectBatch, spec.clients - first) }, (_, i) =>
        new SimulatedClient({ url, clientId: `sim-${first + i + 1}`, backbone, labels: LABELS, seed: spec.seed, ackTimeoutMs: ACK_TIMEOUT_MS }),
      );
      clients.push(...batch);
      await Promise.all(batch.map((client) => client.join()));
    }
    // The last join starts round 1; from here the coordinator runs its rounds and exits when they are done.
    const exit = await coordinator.process.exited;
    const peakRssBytes = sampler.stop();
    if (exit !== 0) throw new Error(`the coordinator exited with ${exit}:\n${coordinator.process.output()}`);
    if (peakRssBytes === 0) throw new Error("could not read the coordinator's memory from /proc (Linux only)");
    const records = (await readFile(join(temp.dir, 'metrics.jsonl'), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as RoundRecordFields)
      .filter((record) => record.status === 'aggregated');
    const clientErrors = clients.flatMap((client) => client.errors);
    return { ...spec, ...modelSize(spec), roundsCompleted: records.length, idleRssBytes, peakRssBytes, clientErrors, ...roundStatistics(records) };
  } finally {
    sampler?.stop();
    clients.forEach((client) => client.close());
    await coordinator?.process.stop('SIGKILL');
    await temp.cleanup();
  }
}

/** What one plan or update carries: the trainable tensors of the coordinator's default (linear) head and the adapter. */
function modelSize(spec: ScenarioSpec): { modelParameters: number; modelBytes: number } {
  const tensors = trainableTensorSpecs({ inputDim: spec.dim, adapterWidth: spec.adapterWidth, head: 'linear', headHidden: 1, labels: LABELS });
  const modelParameters = tensors.reduce((sum, t) => sum + t.shape.reduce((a, b) => a * b, 1), 0);
  return { modelParameters, modelBytes: modelParameters * Float32Array.BYTES_PER_ELEMENT };
}

function roundStatistics(records: RoundRecordFields[]): Pick<ScenarioResult, 'roundsPerMinute' | 'latencySeconds' | 'bytesPerRound'> {
  if (records.length === 0) return { roundsPerMinute: 0, latencySeconds: { median: NaN, p95: NaN }, bytesPerRound: NaN };
  const seconds = records.map((r) => r.seconds);
  const firstStart = Date.parse(records[0].finishedAt) - records[0].seconds * 1000;
  const lastEnd = Date.parse(records[records.length - 1].finishedAt);
  const totalBytes = records.reduce((sum, r) => sum + r.bytesUp + r.bytesDown, 0);
  return {
    roundsPerMinute: records.length / ((lastEnd - firstStart) / 60_000),
    latencySeconds: { median: median(seconds), p95: percentile(seconds, 0.95) },
    bytesPerRound: totalBytes / records.length,
  };
}
