// The simulation end to end with tiny numbers: the real coordinator process, 20 virtual clients over real
// sockets, 4 sampled per round for 2 rounds, training in one real worker on precomputed features (two Gaussian
// clusters), the global model scored on a held-out table after each round.
import { precomputedBackboneRef, trainableTensorSpecs } from '@fedtl/model';
import { configureLogging, seededRandom } from '@fedtl/util';
import { partitionRows } from './client-partition';
import { sharedFeatureTable } from './shared-features';
import { runSimulation } from './simulation-run';

const DIM = 8;
// A label with a comma: the coordinator must get it as one label (coordinatorLabelArgs), or no client could join.
const LABELS = ['negative, mostly', 'positive'];

/** n rows of two clusters around ±1 in every feature, label = cluster, seeded. */
function clusters(n: number, seed: number): { features: Float32Array; labels: Int32Array } {
  const random = seededRandom(seed);
  const labels = Int32Array.from({ length: n }, (_, i) => i % 2);
  const features = Float32Array.from({ length: n * DIM }, (_, k) => (labels[Math.floor(k / DIM)] === 1 ? 1 : -1) + (random() - 0.5));
  return { features, labels };
}

describe('bench simulate: runSimulation', () => {
  beforeAll(() => configureLogging({ level: 'warn' }));

  it('runs 20 virtual clients against the real coordinator, 4 sampled per round, and scores every round', async () => {
    const train = clusters(200, 1);
    const labelNames = Array.from(train.labels, (label) => LABELS[label]);
    const parts = partitionRows(labelNames, undefined, { kind: 'dirichlet', alpha: 0.5 }, 20, 3);
    const { table, ranges } = sharedFeatureTable((row) => train.features.subarray(row * DIM, (row + 1) * DIM), train.labels, DIM, parts);
    const test = clusters(40, 2);
    const testTable = sharedFeatureTable((row) => test.features.subarray(row * DIM, (row + 1) * DIM), test.labels, DIM, [Array.from({ length: 40 }, (_, i) => i)]).table;
    const model = { adapterWidth: 4, head: 'linear' as const, headHidden: 4 };

    const result = await runSimulation({
      backboneSpec: `precomputed:${DIM}`,
      backbone: precomputedBackboneRef(DIM),
      labels: LABELS,
      train: table,
      ranges,
      test: testTable,
      clientsPerRound: 4,
      rounds: 2,
      seed: 5,
      workers: 1,
      connectBatch: 10,
      model,
      training: { localEpochs: 2, batchSize: 8, learningRate: 0.05, optimizer: 'adam' },
    });

    expect(result.clientErrors).toEqual([]);
    expect(result.verdict).toBe('finished');
    expect(result.roundsCompleted).toBe(2);
    expect(result.rounds.map((r) => [r.round, r.status, r.sampled, r.accepted])).toEqual([
      [1, 'aggregated', 4, 4],
      [2, 'aggregated', 4, 4],
    ]);
    for (const round of result.rounds) {
      // A plan and an update of the whole model for each of the 4 sampled clients, at least.
      expect(round.bytesDown).toBeGreaterThan(4 * result.modelParameters * 4);
      expect(round.bytesUp).toBeGreaterThan(4 * result.modelParameters * 4);
      expect(round.test?.accuracy).toBeGreaterThanOrEqual(0);
    }
    // The clusters are far apart: two rounds of four clients separate them.
    expect(result.rounds[1].test?.accuracy).toBeGreaterThan(0.9);
    expect(result.pool.jobs).toBe(2 * 4 + 2);
    expect(result.clientsTrained).toBeGreaterThanOrEqual(4);
    expect(result.clientsTrained).toBeLessThanOrEqual(8);
    // One worker, one model: its tensors are the model's own and nothing else after 8 training jobs.
    const modelTensors = trainableTensorSpecs({ inputDim: DIM, labels: LABELS, ...model }).length;
    expect(result.workerTensors).toEqual([modelTensors]);
    expect(result.memory.coordinator.peakRssBytes).toBeGreaterThan(0);
    expect(result.memory.simulation.stages.map((s) => s.stage)).toEqual(['features ready', '1 training workers started', '20 virtual clients joined', 'after the last round']);
  }, 120_000);
});
