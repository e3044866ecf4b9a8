// One case of the aggregation benchmark: N updates of P floats folded one at a time into the coordinator's real
// streaming aggregation (FedAvg's round aggregator, as RoundCollector feeds it), against the ceiling in
// JavaScript: a plain Float64Array multiply-add loop over the same values. Each update is drawn from a seeded
// generator, encoded and decoded by the protocol codec (so its data is a view over a received message, as the
// coordinator's are), handed to both, and dropped: the updates are never all in memory. The two are timed
// update by update, in turn, so that the machine's load falls on both alike; speeds are per update, from medians.
import { decodeUpdate, encodeUpdate, type NamedTensor, type Update } from '@fedtl/protocol';
import { FedAvg } from '@fedtl/strategies';
import { FedtlError, deriveSeed, seededRandom } from '@fedtl/util';
import { median } from '../load/statistics';

export interface AggregateCase {
  clients: number;
  floats: number;
  /** Bytes of float32 values aggregated, clients × floats × 4; every MB/s is these bytes (1 MB = 1e6) per second. */
  bytes: number;
  /** FedAvg's add() of every update, summed, in milliseconds. */
  aggregateMs: number;
  /** The plain multiply-add loop over the same updates, summed. */
  ceilingMs: number;
  /** Per update: 4 × P bytes over the median time of one add() (medians, so a burst of the shared machine's load does not decide). */
  MBps: number;
  /** The same over the median time of the plain loop on one update. */
  ceilingMBps: number;
  /** MBps / ceilingMBps: the share of the plain loop's speed that the real aggregation reaches. */
  ratioToCeiling: number;
  /** FedAvg's finish() (the weighted mean and the next global weights), once per case. */
  finishMs: number;
  /** Resident memory when the case started, and the process's high-water mark when it ended (MiB, 2^20 bytes). */
  baselineRssMB: number;
  peakRssMB: number;
  /** The largest difference between FedAvg's next weights and the ceiling's (global + weighted mean): a check that both computed the same. */
  maxAbsDifference: number;
}

const TENSOR = 'adapter/delta';
const MIB = 2 ** 20;

/** Client `index`'s update: P values uniform in [-0.01, 0.01), through encodeUpdate and decodeUpdate. */
function receivedUpdate(index: number, floats: number, seed: number): Update {
  const random = seededRandom(deriveSeed(seed, index));
  const data = new Float32Array(floats);
  for (let i = 0; i < floats; i++) data[i] = (random() - 0.5) * 0.02;
  const sent: Update = { runId: 'bench-aggregate', round: 1, clientId: `client-${index}`, delta: [{ name: TENSOR, shape: [floats], dtype: 'float32', data }], numExamples: 10 + (index % 7), metrics: { loss: 0.5 } };
  return decodeUpdate(encodeUpdate(sent));
}

function millis(step: () => void): number {
  const start = process.hrtime.bigint();
  step();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** Updates of at most this many values, untimed, let the JIT compile both loops before the case is timed. */
const WARM_UP = { updates: 3, maxFloats: 65_536 };

/** Runs one case in this process (see the top of the file), after an untimed warm-up of both loops. */
export function runAggregateCase(clients: number, floats: number, seed: number): AggregateCase {
  const baselineRssMB = process.memoryUsage().rss / MIB;
  aggregateUpdates(WARM_UP.updates, Math.min(floats, WARM_UP.maxFloats), seed + 1);
  const { perUpdate, ...measured } = aggregateUpdates(clients, floats, seed);
  const MBps = (floats * 4) / 1e6 / (median(perUpdate.aggregateMs) / 1e3);
  const ceilingMBps = (floats * 4) / 1e6 / (median(perUpdate.ceilingMs) / 1e3);
  return {
    clients,
    floats,
    bytes: clients * floats * 4,
    ...measured,
    MBps,
    ceilingMBps,
    ratioToCeiling: MBps / ceilingMBps,
    baselineRssMB,
    // maxRSS is in KiB.
    peakRssMB: process.resourceUsage().maxRSS / 1024,
  };
}

type Timings = Pick<AggregateCase, 'aggregateMs' | 'ceilingMs' | 'finishMs' | 'maxAbsDifference'> & { perUpdate: { aggregateMs: number[]; ceilingMs: number[] } };

function aggregateUpdates(clients: number, floats: number, seed: number): Timings {
  const global: NamedTensor[] = [{ name: TENSOR, shape: [floats], dtype: 'float32', data: new Float32Array(floats) }];
  const aggregator = new FedAvg().beginRound(1, global);
  const ceilingSum = new Float64Array(floats);
  let ceilingWeight = 0;
  const perUpdate = { aggregateMs: [] as number[], ceilingMs: [] as number[] };
  for (let index = 0; index < clients; index++) {
    const update = receivedUpdate(index, floats, seed);
    const weight = update.numExamples;
    const data = update.delta[0].data as Float32Array;
    // Alternate which goes first, so that neither always finds the update's values warm in the cache.
    const ceiling = () => {
      multiplyAdd(ceilingSum, data, weight);
      ceilingWeight += weight;
    };
    const real = () => aggregator.add({ clientId: update.clientId, delta: update.delta, numExamples: update.numExamples, metrics: update.metrics });
    if (index % 2 === 0) {
      perUpdate.aggregateMs.push(millis(real));
      perUpdate.ceilingMs.push(millis(ceiling));
    } else {
      perUpdate.ceilingMs.push(millis(ceiling));
      perUpdate.aggregateMs.push(millis(real));
    }
  }
  let next: NamedTensor[] = [];
  const finishMs = millis(() => {
    const result = aggregator.finish([]);
    if (!result) throw new FedtlError('FEDTL_ERR_INTERNAL', 'FedAvg aggregated nothing');
    next = result.weights;
  });
  let maxAbsDifference = 0;
  const weights = next[0].data;
  for (let i = 0; i < floats; i++) maxAbsDifference = Math.max(maxAbsDifference, Math.abs(weights[i] - Math.fround(ceilingSum[i] / ceilingWeight)));
  const total = (values: number[]) => values.reduce((sum, value) => sum + value, 0);
  return { aggregateMs: total(perUpdate.aggregateMs), ceilingMs: total(perUpdate.ceilingMs), finishMs, maxAbsDifference, perUpdate };
}

/**
 * The ceiling: sum[i] += weight · data[i], the plainest loop JS has. A function of its own, over its arguments
 * only, so V8 optimises it as it would in any program (a loop in a closure writing captured variables ran about
 * half as fast and flattered the aggregation's ratio).
 */
export function multiplyAdd(sum: Float64Array, data: Float32Array, weight: number): void {
  const length = sum.length;
  for (let i = 0; i < length; i++) sum[i] += weight * data[i];
}
