import type { EvaluateReport, NamedTensor } from '@fedtl/protocol';
import { FedtlError, seededRandom } from '@fedtl/util';
import { FedAvg } from './fedavg';
import { type ClientUpdate, aggregateUpdates } from './strategy';

const LAYOUT = [
  { name: 'adapter/down/kernel', shape: [5, 2] },
  { name: 'adapter/down/bias', shape: [2] },
  { name: 'head/out/kernel', shape: [5, 3] },
  { name: 'head/out/bias', shape: [3] },
];

function randomTensors(random: () => number, scale = 1): NamedTensor[] {
  return LAYOUT.map(({ name, shape }) => {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = (random() * 2 - 1) * scale;
    return { name, shape: shape.slice(), dtype: 'float32', data };
  });
}

function makeUpdates(seed: number, counts: number[]): ClientUpdate[] {
  const random = seededRandom(seed);
  return counts.map((numExamples, k) => ({
    clientId: `client-${k}`,
    delta: randomTensors(random, 0.1),
    numExamples,
    metrics: { loss: k + 1, accuracy: 0.5 + k / 100 },
  }));
}

/** global + lr · Σ nₖ·Δₖ / Σ nₖ, in float64, independent of the code under test. */
function reference(global: NamedTensor[], updates: ClientUpdate[], lr = 1): Float64Array[] {
  const total = updates.reduce((sum, u) => sum + u.numExamples, 0);
  return global.map((tensor, t) =>
    Float64Array.from(tensor.data, (value, i) => {
      let sum = 0;
      for (const update of updates) sum += update.numExamples * update.delta[t].data[i];
      return value + (lr * sum) / total;
    }),
  );
}

function expectClose(actual: NamedTensor[], expected: Float64Array[]): void {
  expect(actual.map((t) => t.name)).toEqual(LAYOUT.map((l) => l.name));
  actual.forEach((tensor, t) => {
    for (let i = 0; i < tensor.data.length; i++) expect(Math.abs(tensor.data[i] - expected[t][i])).toBeLessThan(1e-6);
  });
}

async function* stream(updates: ClientUpdate[]): AsyncIterable<ClientUpdate> {
  for (const update of updates) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    yield update;
  }
}

describe('FedAvg options', () => {
  it('has documented defaults', () => {
    expect(new FedAvg().options).toEqual({
      fractionFit: 1,
      fractionEvaluate: 1,
      minFitClients: 1,
      minEvaluateClients: 1,
      minAvailableClients: 1,
      serverLearningRate: 1,
    });
  });

  it.each([
    [{ fractionFit: 0 }, 'fractionFit must be in (0, 1], got 0'],
    [{ fractionFit: 1.5 }, 'fractionFit must be in (0, 1], got 1.5'],
    [{ fractionFit: NaN }, 'fractionFit must be in (0, 1], got NaN'],
    [{ fractionEvaluate: -0.1 }, 'fractionEvaluate must be in [0, 1], got -0.1'],
    [{ minFitClients: 0 }, 'minFitClients must be an integer ≥ 1, got 0'],
    [{ minFitClients: 2.5 }, 'minFitClients must be an integer ≥ 1, got 2.5'],
    [{ minEvaluateClients: -1 }, 'minEvaluateClients must be an integer ≥ 0, got -1'],
    [{ minAvailableClients: 0 }, 'minAvailableClients must be an integer ≥ 1, got 0'],
    [{ serverLearningRate: 0 }, 'serverLearningRate must be positive and finite, got 0'],
    [{ serverLearningRate: Infinity }, 'serverLearningRate must be positive and finite, got Infinity'],
  ])('rejects %p with a RangeError naming the value', (options, message) => {
    expect(() => new FedAvg(options)).toThrow(RangeError);
    expect(() => new FedAvg(options)).toThrow(message);
  });
});

describe('FedAvg aggregation', () => {
  const global = randomTensors(seededRandom(1));
  const updates = makeUpdates(2, [10, 300, 1, 57, 1000]);

  it('equals the global weights plus the example-weighted mean delta (to 1e-6)', async () => {
    const result = await aggregateUpdates(new FedAvg(), 1, global, updates);
    expect(result).not.toBeNull();
    expectClose(result?.weights ?? [], reference(global, updates));
  });

  it('streams updates one at a time to the same result as the batch', async () => {
    const strategy = new FedAvg({ serverLearningRate: 0.7 });
    const streamed = await aggregateUpdates(strategy, 1, global, stream(updates.slice().reverse()));
    expectClose(streamed?.weights ?? [], reference(global, updates, 0.7));
    const aggregator = strategy.beginRound(1, global);
    for (const update of updates) aggregator.add(update);
    expect(aggregator.accepted).toBe(5);
    const batch = aggregator.finish([]);
    expect(batch).not.toBeNull();
    batch?.weights.forEach((tensor, t) => expect(streamed?.weights[t].data).toEqual(tensor.data));
  });

  it('weights training metrics by example count and counts clients, examples and failures', async () => {
    const result = await aggregateUpdates(new FedAvg(), 3, global, updates.slice(0, 2), [
      { clientId: 'client-9', code: 'FEDTL_ERR_ROUND_TIMEOUT', message: 'late' },
    ]);
    expect(result?.metrics.loss).toBeCloseTo((10 * 1 + 300 * 2) / 310, 12);
    expect(result?.metrics.accuracy).toBeCloseTo((10 * 0.5 + 300 * 0.51) / 310, 12);
    expect(result?.metrics).toMatchObject({ numClients: 2, numExamples: 310, numFailures: 1 });
  });

  it('returns null when there is nothing to aggregate', async () => {
    const failures = [{ clientId: 'a', code: 'FEDTL_ERR_ROUND_TIMEOUT' as const, message: 'late' }];
    expect(await aggregateUpdates(new FedAvg(), 1, global, [], failures)).toBeNull();
    expect(new FedAvg().beginRound(1, global).finish([])).toBeNull();
  });

  it('turns rejected updates into failures with their codes and aggregates the rest', async () => {
    const bad: ClientUpdate[] = [
      {
        ...updates[0],
        clientId: 'shape',
        delta: updates[0].delta.map((t, i) => (i === 0 ? { ...t, shape: [2, 5] } : t)),
      },
      { ...updates[0], clientId: 'names', delta: updates[0].delta.slice(1) },
      { ...updates[0], clientId: 'count', numExamples: 0 },
      { ...updates[0], clientId: 'fraction', numExamples: 2.5 },
      updates[1],
      { ...updates[2], clientId: updates[1].clientId },
    ];
    const aggregator = new FedAvg().beginRound(4, global);
    const codes = bad.map((update) => {
      try {
        aggregator.add(update);
        return 'accepted';
      } catch (err) {
        return (err as FedtlError).code;
      }
    });
    expect(codes).toEqual([
      'FEDTL_ERR_BAD_TENSOR_SHAPE',
      'FEDTL_ERR_BAD_TENSOR_NAME',
      'FEDTL_ERR_BAD_EXAMPLE_COUNT',
      'FEDTL_ERR_BAD_EXAMPLE_COUNT',
      'accepted',
      'FEDTL_ERR_DUPLICATE_UPDATE',
    ]);
    expectClose(aggregator.finish([])?.weights ?? [], reference(global, [updates[1]]));

    const result = await aggregateUpdates(new FedAvg(), 4, global, bad);
    expect(result?.metrics).toMatchObject({ numClients: 1, numFailures: 5 });
  });

  it('does not modify the global weights or the deltas', async () => {
    const before = global.map((t) => t.data.slice());
    const deltasBefore = updates.map((u) => u.delta.map((t) => t.data.slice()));
    await aggregateUpdates(new FedAvg(), 1, global, updates);
    global.forEach((t, i) => expect(t.data).toEqual(before[i]));
    updates.forEach((u, k) => u.delta.forEach((t, i) => expect(t.data).toEqual(deltasBefore[k][i])));
  });

  it('refuses add() after finish() and a second finish()', () => {
    const aggregator = new FedAvg().beginRound(1, global);
    aggregator.add(updates[0]);
    aggregator.finish([]);
    expect(() => aggregator.add(updates[1])).toThrow('after finish');
    expect(() => aggregator.finish([])).toThrow('twice');
  });
});

describe('FedAvg round and evaluation configuration', () => {
  const clients = Array.from({ length: 10 }, (_, i) => `org-${i}`);

  it('samples deterministically under a seeded random source and respects the minimums', () => {
    const strategy = new FedAvg({ fractionFit: 0.2, minFitClients: 3, minAvailableClients: 4 });
    const first = strategy.configureRound(1, clients, seededRandom(9));
    expect(first).toEqual(strategy.configureRound(1, clients, seededRandom(9)));
    expect(first?.clients).toHaveLength(3);
    expect(first?.config).toEqual({});
    expect(strategy.configureRound(1, clients.slice(0, 3), seededRandom(9))).toBeNull();
    expect(new FedAvg({ fractionFit: 0.5 }).configureRound(1, clients, seededRandom(9))?.clients).toHaveLength(5);
  });

  it('selects evaluators by fractionEvaluate, none when it is 0', () => {
    expect(new FedAvg().configureEvaluation(1, clients, seededRandom(1))).toEqual(clients);
    expect(new FedAvg({ fractionEvaluate: 0 }).configureEvaluation(1, clients, seededRandom(1))).toEqual([]);
    expect(new FedAvg({ fractionEvaluate: 0.3 }).configureEvaluation(1, clients, seededRandom(1))).toHaveLength(3);
    expect(new FedAvg({ minEvaluateClients: 20 }).configureEvaluation(1, clients, seededRandom(1))).toEqual([]);
  });

  it('aggregates evaluation metrics weighted by examples and pools per-label recall', () => {
    const report = (clientId: string, numExamples: number, accuracy: number, perLabel: EvaluateReport['perLabel']) =>
      ({
        runId: 'r',
        round: 2,
        clientId,
        numExamples,
        metrics: { accuracy, macroF1: accuracy / 2 },
        perLabel,
      }) as EvaluateReport;
    const reports = [
      report('a', 30, 0.9, { spam: { support: 10, correct: 9 }, ham: { support: 20, correct: 18 } }),
      report('b', 10, 0.5, { spam: { support: 10, correct: 5 }, ham: { support: 0, correct: 0 } }),
      report('empty', 0, 0, {}),
    ];
    const metrics = new FedAvg().aggregateEvaluation(2, reports, [
      { clientId: 'c', code: 'FEDTL_ERR_ACK_TIMEOUT', message: 'late' },
    ]);
    expect(metrics?.accuracy).toBeCloseTo((30 * 0.9 + 10 * 0.5) / 40, 12);
    expect(metrics?.macroF1).toBeCloseTo((30 * 0.45 + 10 * 0.25) / 40, 12);
    expect(metrics?.['recall/spam']).toBeCloseTo(14 / 20, 12);
    expect(metrics?.['recall/ham']).toBeCloseTo(18 / 20, 12);
    expect(metrics).toMatchObject({ numClients: 2, numExamples: 40, numFailures: 1 });
    expect(new FedAvg().aggregateEvaluation(2, [reports[2]])).toBeNull();
    expect(new FedAvg().aggregateEvaluation(2, [])).toBeNull();
  });
});

describe('FedAvg initialisation and state', () => {
  it('starts from a copy of the initial weights', () => {
    const initial = randomTensors(seededRandom(4));
    const start = new FedAvg().initialize(initial);
    expect(start).toEqual(initial);
    expect(start[0].data).not.toBe(initial[0].data);
    const repeated = [...initial, initial[0]];
    expect(() => new FedAvg().initialize(repeated)).toThrow(FedtlError);
  });

  it('keeps no server state and refuses a checkpoint that holds some', () => {
    const strategy = new FedAvg();
    expect(strategy.state()).toEqual({ scalars: {}, tensors: {} });
    expect(() => strategy.restore(strategy.state())).not.toThrow();
    expect(() => strategy.restore({ scalars: { step: 3 }, tensors: {} })).toThrow(
      expect.objectContaining({ code: 'FEDTL_ERR_CHECKPOINT_CORRUPT' }),
    );
  });
});
