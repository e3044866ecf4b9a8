// One simulated federation: the real coordinator in its own process (its own client sampling: --fraction-fit K/N,
// quorum K, all N connected before round 1), N virtual clients over real Socket.IO sockets from this process, and a
// pool of training workers sized to the machine that trains whichever clients the coordinator samples. The model
// of Flower's simulation engine (flwr.simulation: a pool of actors sized to the machine runs the sampled clients'
// jobs, with the data split by Flower Datasets' partitioners), with the difference that here every client is a
// real connection to the real coordinator, so the protocol, admission, sampling, aggregation and checkpoints are
// the production ones. Reports per round seconds, clients, bytes and test accuracy, and the memory of both
// processes at each stage.
import { makeTempDir } from '@fedtl/util/testing';
import { trainableTensorSpecs } from '@fedtl/model';
import type { BackboneRef, ModelSpec } from '@fedtl/protocol';
import { createLogger } from '@fedtl/util';
import { coordinatorLabelArgs } from '../coordinator-labels';
import { spawnCoordinator, type CoordinatorProcess } from '../load/coordinator-process';
import { MemorySampler, readMemory } from '../load/memory-sampler';
import { RoundObserver, type ObservedRound } from './round-observer';
import type { RowRange, SharedFeatureTable } from './shared-features';
import { TrainingPool, type PoolStats } from './training-pool';
import { VirtualClient } from './virtual-client';

export interface SimulationSpec {
  /** The --backbone spec the coordinator pins (use-lite, precomputed:DIM…) and its ref, which every client joins with. */
  backboneSpec: string;
  backbone: BackboneRef;
  /** The federation's label set. */
  labels: string[];
  /** Every client's rows, laid out client by client; ranges[i] is client i's. */
  train: SharedFeatureTable;
  ranges: RowRange[];
  /** Where the global model is scored after every round; absent: no accuracy column. */
  test?: SharedFeatureTable;
  clientsPerRound: number;
  rounds: number;
  seed: number;
  /** Training workers; default one per core. */
  workers?: number;
  connectBatch: number;
  model: { adapterWidth: number; head: 'linear' | 'mlp'; headHidden: number };
  training: { localEpochs: number; batchSize: number; learningRate: number; optimizer: 'sgd' | 'adam' };
  /** The coordinator's --out-dir (checkpoints, metrics.jsonl); default a temporary folder removed afterwards. */
  coordinatorDir?: string;
}

/** Resident memory of this process at one stage of the run. */
export interface MemoryStage {
  stage: string;
  rssBytes: number;
}

export interface SimulationResult {
  clients: number;
  clientsPerRound: number;
  roundsPlanned: number;
  roundsCompleted: number;
  verdict: string;
  backend: string;
  workers: number;
  modelParameters: number;
  /** Distinct clients whose update was accepted in at least one round (sampling draws anew every round). */
  clientsTrained: number;
  /** Rows per client: the smallest, median and largest. */
  clientRows: { min: number; median: number; max: number };
  rounds: ObservedRound[];
  /** Wall seconds of each stage: coordinator start, pool start, connecting and joining N clients, the rounds. */
  seconds: { coordinatorStart: number; poolStart: number; connect: number; rounds: number; total: number };
  pool: PoolStats;
  /** `tf.memory().numTensors` in each worker after the run: one model's tensors each when nothing leaked. */
  workerTensors: number[];
  memory: {
    /** This process (the virtual clients, the shared features and the workers' TF.js heaps): VmHWM and stages. */
    simulation: { peakRssBytes: number; stages: MemoryStage[] };
    /** The coordinator process: listening with no client, once all N joined, and its VmHWM over the run. */
    coordinator: { idleRssBytes: number; joinedRssBytes: number; peakRssBytes: number };
  };
  /** What the virtual clients saw go wrong; a correct run has none. */
  clientErrors: string[];
}

const DEADLINE_MS = 1_800_000;
const ACK_TIMEOUT_MS = 300_000;
const log = createLogger('bench-simulate');

/** Runs the federation to its verdict and tears everything down (coordinator, sockets, workers), even on failure. */
export async function runSimulation(spec: SimulationSpec): Promise<SimulationResult> {
  const clients = spec.ranges.length;
  if (spec.clientsPerRound > clients) throw new RangeError(`runSimulation: expected clientsPerRound ≤ ${clients} clients, got ${spec.clientsPerRound}`);
  const stages: MemoryStage[] = [];
  const mark = (stage: string) => stages.push({ stage, rssBytes: readMemory(process.pid)?.rssBytes ?? NaN });
  mark('features ready');
  const temp = spec.coordinatorDir ? undefined : await makeTempDir('fedtl-simulate-');
  const outDir = spec.coordinatorDir ?? (temp as { dir: string }).dir;
  const started = performance.now();
  const since = (t: number) => (performance.now() - t) / 1000;
  let coordinator: CoordinatorProcess | undefined;
  let sampler: MemorySampler | undefined;
  let pool: TrainingPool | undefined;
  let observer: RoundObserver | undefined;
  const virtual: VirtualClient[] = [];
  try {
    coordinator = await spawnCoordinator(outDir, await coordinatorArgs(spec, clients, outDir));
    sampler = new MemorySampler(coordinator.pid);
    const idleRssBytes = readMemory(coordinator.pid)?.rssBytes ?? NaN;
    const coordinatorStart = since(started);

    const poolStarted = performance.now();
    pool = await TrainingPool.start({ workers: spec.workers, train: spec.train, test: spec.test });
    const poolStart = since(poolStarted);
    mark(`${pool.size} training workers started`);
    const running = pool;
    const labelOf = (row: number) => spec.labels[spec.train.labels[row]];
    let welcomeSpec: ModelSpec | undefined;
    // An honest virtual client never fails: the first error stops the run (the coordinator would otherwise wait
    // out its round deadline for an update that will not come).
    let failed!: (err: Error) => void;
    const clientFailure = new Promise<never>((_, reject) => {
      failed = reject;
    });
    clientFailure.catch(() => undefined);
    observer = new RoundObserver(outDir, spec.test ? (weights) => running.evaluate(welcomeSpec as ModelSpec, weights) : undefined);

    const connectStarted = performance.now();
    for (let first = 0; first < clients; first += spec.connectBatch) {
      const batch = spec.ranges.slice(first, first + spec.connectBatch).map((rows, i) => {
        const labels = [...new Set(Array.from({ length: rows.count }, (_, k) => labelOf(rows.offset + k)))].sort();
        return new VirtualClient({
          url: coordinator?.url as string,
          clientId: `virtual-${String(first + i + 1).padStart(String(clients).length, '0')}`,
          backbone: spec.backbone,
          labels,
          rows,
          ackTimeoutMs: ACK_TIMEOUT_MS,
          train: (job) => running.train(job),
          onError: (message) => failed(new Error(`a virtual client failed, the run is stopped: ${message}`)),
        });
      });
      virtual.push(...batch);
      await Promise.race([Promise.all(batch.map((client) => client.join())), clientFailure]);
      welcomeSpec ??= batch[0].modelSpec;
    }
    const connect = since(connectStarted);
    mark(`${clients} virtual clients joined`);
    const joinedRssBytes = readMemory(coordinator.pid)?.rssBytes ?? NaN;
    log.info('every virtual client joined; the coordinator runs its rounds', { clients, seconds: connect });

    // The last join lets round 1 start; the coordinator exits once its verdict is acknowledged.
    const roundsStarted = performance.now();
    const exit = await Promise.race([coordinator.process.exited, clientFailure]);
    const rounds = await observer.finish();
    const roundsSeconds = since(roundsStarted);
    mark('after the last round');
    const coordinatorPeak = sampler.stop();
    if (exit !== 0) throw new Error(`the coordinator exited with ${exit}:\n${coordinator.process.output().slice(-4000)}`);
    const workerTensors = await pool.numTensors();
    const verdict = virtual[0]?.verdict;
    const sizes = spec.ranges.map((r) => r.count).sort((a, b) => a - b);
    return {
      clients,
      clientsPerRound: spec.clientsPerRound,
      roundsPlanned: spec.rounds,
      roundsCompleted: rounds.filter((r) => r.status === 'aggregated').length,
      verdict: verdict ? (verdict.status === 'finished' ? 'finished' : `failed: ${verdict.error.code}: ${verdict.error.message}`) : 'none received',
      backend: pool.backend,
      workers: pool.size,
      modelParameters: modelParameters(welcomeSpec),
      clientsTrained: virtual.filter((client) => client.roundsTrained.length > 0).length,
      clientRows: { min: sizes[0], median: sizes[Math.floor(sizes.length / 2)], max: sizes[sizes.length - 1] },
      rounds,
      seconds: { coordinatorStart, poolStart, connect, rounds: roundsSeconds, total: since(started) },
      pool: pool.stats(),
      workerTensors,
      memory: {
        simulation: { peakRssBytes: readMemory(process.pid)?.peakRssBytes ?? NaN, stages },
        coordinator: { idleRssBytes, joinedRssBytes, peakRssBytes: coordinatorPeak },
      },
      clientErrors: virtual.flatMap((client) => client.errors),
    };
  } finally {
    sampler?.stop();
    await observer?.finish().catch(() => undefined);
    virtual.forEach((client) => client.close());
    await pool?.close();
    await coordinator?.process.stop('SIGKILL');
    await temp?.cleanup();
  }
}

/**
 * The coordinator's own options for the run: N connected before round 1, K sampled per round (--fraction-fit
 * K/N, which its seeded sampler floors to exactly K) and a quorum of K, the model and local training, caps sized
 * for N loopback connections, deadlines generous for a loaded machine. The labels go in a config file in `dir`.
 */
export async function coordinatorArgs(spec: SimulationSpec, clients: number, dir: string): Promise<string[]> {
  const { model, training } = spec;
  return [
    '--rounds', String(spec.rounds), '--seed', String(spec.seed),
    '--min-available', String(clients), '--min-clients', String(spec.clientsPerRound), '--fraction-fit', String(spec.clientsPerRound / clients),
    '--backbone', spec.backboneSpec, ...(await coordinatorLabelArgs(dir, spec.labels)),
    '--adapter-width', String(model.adapterWidth), '--head', model.head, '--head-hidden', String(model.headHidden),
    '--local-epochs', String(training.localEpochs), '--batch-size', String(training.batchSize), '--learning-rate', String(training.learningRate), '--optimizer', training.optimizer,
    '--round-timeout-ms', String(DEADLINE_MS), '--eval-timeout-ms', String(DEADLINE_MS), '--ack-timeout-ms', String(ACK_TIMEOUT_MS),
    '--max-clients', String(clients), '--max-connections', String(clients + 10), '--max-connections-per-address', String(clients + 10),
    '--log-level', 'warn',
  ];
}

function modelParameters(spec: ModelSpec | undefined): number {
  if (!spec) return NaN;
  return trainableTensorSpecs(spec).reduce((sum, t) => sum + t.shape.reduce((a, b) => a * b, 1), 0);
}
