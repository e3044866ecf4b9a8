// FedAvgM and FedAdam (on the shared FedOpt) against hand-written float64 references over several rounds, their
// state()/restore() round trip (FedYogi's and FedAdagrad's too), and their options.
import type { NamedTensor } from '@fedtl/protocol';
import { seededRandom } from '@fedtl/util';
import { FedAdam } from './fedadam';
import { FedAdagrad } from './fedadagrad';
import { FedAvgM } from './fedavgm';
import { FedYogi } from './fedyogi';
import type { FedOpt } from './fedopt';
import { type ClientUpdate, aggregateUpdates } from './strategy';

const LAYOUT = [
  { name: 'adapter/down/kernel', shape: [5, 2] },
  { name: 'adapter/down/bias', shape: [2] },
  { name: 'head/out/kernel', shape: [5, 3] },
  { name: 'head/out/bias', shape: [3] },
];
const ROUNDS = 4;

function randomTensors(random: () => number, scale = 1): NamedTensor[] {
  return LAYOUT.map(({ name, shape }) => {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = (random() * 2 - 1) * scale;
    return { name, shape: shape.slice(), dtype: 'float32', data };
  });
}

/** Three clients a round with uneven example counts; some elements get an exact zero delta in every round. */
function roundsOfUpdates(seed: number): ClientUpdate[][] {
  const random = seededRandom(seed);
  return Array.from({ length: ROUNDS }, () =>
    [12, 300, 57].map((numExamples, k) => {
      const delta = randomTensors(random, 0.1);
      delta[1].data[0] = 0;
      return { clientId: `client-${k}`, delta, numExamples, metrics: { loss: 1 } };
    }),
  );
}

/** Σ nₖ·Δₖ / Σ nₖ per element, float64. */
function meanDelta(updates: ClientUpdate[]): Float64Array[] {
  const total = updates.reduce((sum, u) => sum + u.numExamples, 0);
  return LAYOUT.map((_, t) =>
    Float64Array.from(updates[0].delta[t].data, (_v, i) => updates.reduce((sum, u) => sum + u.numExamples * u.delta[t].data[i], 0) / total),
  );
}

/** FedAvgM by its definition: m ← β·m + Δ, x ← x + η·m; the global weights after each round. */
function referenceFedAvgM(initial: NamedTensor[], rounds: ClientUpdate[][], beta: number, lr: number): Float64Array[][] {
  let x = initial.map((t) => Float64Array.from(t.data));
  let m = x.map((t) => new Float64Array(t.length));
  return rounds.map((updates) => {
    const delta = meanDelta(updates);
    m = m.map((mt, t) => mt.map((value, i) => beta * value + delta[t][i]));
    x = x.map((xt, t) => xt.map((value, i) => value + lr * m[t][i]));
    return x;
  });
}

/** FedAdam by Algorithm 2 of Reddi et al.: m ← β₁m + (1−β₁)Δ, v ← β₂v + (1−β₂)Δ², x ← x + η·m/(√v + τ). */
function referenceFedAdam(initial: NamedTensor[], rounds: ClientUpdate[][], o: { lr: number; beta1: number; beta2: number; tau: number }): Float64Array[][] {
  let x = initial.map((t) => Float64Array.from(t.data));
  let m = x.map((t) => new Float64Array(t.length));
  let v = x.map((t) => new Float64Array(t.length));
  return rounds.map((updates) => {
    const delta = meanDelta(updates);
    m = m.map((mt, t) => mt.map((value, i) => o.beta1 * value + (1 - o.beta1) * delta[t][i]));
    v = v.map((vt, t) => vt.map((value, i) => o.beta2 * value + (1 - o.beta2) * delta[t][i] ** 2));
    x = x.map((xt, t) => xt.map((value, i) => value + (o.lr * m[t][i]) / (Math.sqrt(v[t][i]) + o.tau)));
    return x;
  });
}

async function runRounds(strategy: FedOpt, initial: NamedTensor[], rounds: ClientUpdate[][]): Promise<NamedTensor[][]> {
  const globals: NamedTensor[][] = [];
  let global = strategy.initialize(initial);
  for (const [r, updates] of rounds.entries()) {
    const result = await aggregateUpdates(strategy, r + 1, global, updates);
    if (!result) throw new Error(`round ${r + 1}: nothing aggregated`);
    global = result.weights;
    globals.push(global);
  }
  return globals;
}

function maxError(actual: NamedTensor[], expected: Float64Array[]): number {
  expect(actual.map((t) => t.name)).toEqual(LAYOUT.map((l) => l.name));
  let max = 0;
  actual.forEach((tensor, t) => tensor.data.forEach((value, i) => (max = Math.max(max, Math.abs(value - expected[t][i])))));
  return max;
}

const initial = randomTensors(seededRandom(1));
const rounds = roundsOfUpdates(2);

describe('FedAvgM', () => {
  it.each([
    [0.9, 1],
    [0.5, 0.3],
    [0, 1],
  ])('equals the float64 reference over %p momentum, %p server learning rate, round after round (to 1e-6)', async (beta, lr) => {
    const globals = await runRounds(new FedAvgM({ serverMomentum: beta, serverLearningRate: lr }), initial, rounds);
    const expected = referenceFedAvgM(initial, rounds, beta, lr);
    globals.forEach((global, r) => expect(maxError(global, expected[r])).toBeLessThan(1e-6));
  });

  it('moves further than FedAvg when the rounds agree: momentum accumulates', async () => {
    const same = Array.from({ length: ROUNDS }, () => rounds[0]);
    const [withMomentum, without] = await Promise.all([
      runRounds(new FedAvgM(), initial, same),
      runRounds(new FedAvgM({ serverMomentum: 0 }), initial, same),
    ]);
    const step = (globals: NamedTensor[][]) => Math.abs(globals[ROUNDS - 1][0].data[0] - initial[0].data[0]);
    expect(step(withMomentum)).toBeGreaterThan(2 * step(without));
  });

  it('has documented defaults and names a bad option in a RangeError', () => {
    const strategy = new FedAvgM();
    expect(strategy.name).toBe('FedAvgM');
    expect([strategy.serverMomentum, strategy.options.serverLearningRate]).toEqual([0.9, 1]);
    expect(() => new FedAvgM({ serverMomentum: 1 })).toThrow(new RangeError('FedAvgM: serverMomentum must be in [0, 1), got 1'));
    expect(() => new FedAvgM({ serverMomentum: -0.1 })).toThrow(new RangeError('FedAvgM: serverMomentum must be in [0, 1), got -0.1'));
    expect(() => new FedAvgM({ serverMomentum: NaN })).toThrow(RangeError);
    expect(() => new FedAvgM({ serverLearningRate: 0 })).toThrow(new RangeError('FedAvgM: serverLearningRate must be positive and finite, got 0'));
    expect(() => new FedAvgM({ fractionFit: 2 })).toThrow(new RangeError('FedAvgM: fractionFit must be in (0, 1], got 2'));
  });
});

describe('FedAdam', () => {
  const settings = { lr: 0.05, beta1: 0.9, beta2: 0.99, tau: 1e-3 };

  it('equals the float64 reference of Algorithm 2, round after round (to 1e-6)', async () => {
    const strategy = new FedAdam({ serverLearningRate: settings.lr, tau: settings.tau });
    const globals = await runRounds(strategy, initial, rounds);
    const expected = referenceFedAdam(initial, rounds, settings);
    globals.forEach((global, r) => expect(maxError(global, expected[r])).toBeLessThan(1e-6));
  });

  it('with the defaults moves each weight about η in the first round, and not at all where the delta is zero', async () => {
    const [first] = await runRounds(new FedAdam(), initial, rounds.slice(0, 1));
    const expected = referenceFedAdam(initial, rounds.slice(0, 1), { lr: 0.1, beta1: 0.9, beta2: 0.99, tau: 1e-9 })[0];
    expect(maxError(first, expected)).toBeLessThan(1e-6);
    expect(Math.abs(first[0].data[0] - initial[0].data[0])).toBeCloseTo(0.1, 5);
    expect(first[1].data[0]).toBe(initial[1].data[0]);
  });

  it('has documented defaults and names a bad option in a RangeError', () => {
    const strategy = new FedAdam();
    expect(strategy.name).toBe('FedAdam');
    expect([strategy.options.serverLearningRate, strategy.beta1, strategy.beta2, strategy.tau]).toEqual([0.1, 0.9, 0.99, 1e-9]);
    expect(() => new FedAdam({ beta1: 1 })).toThrow(new RangeError('FedAdam: beta1 must be in [0, 1), got 1'));
    expect(() => new FedAdam({ beta2: -1 })).toThrow(new RangeError('FedAdam: beta2 must be in [0, 1), got -1'));
    expect(() => new FedAdam({ tau: 0 })).toThrow(new RangeError('FedAdam: tau must be positive and finite, got 0'));
    expect(() => new FedAdam({ tau: Infinity })).toThrow(new RangeError('FedAdam: tau must be positive and finite, got Infinity'));
    expect(() => new FedAdam({ serverLearningRate: -1 })).toThrow(new RangeError('FedAdam: serverLearningRate must be positive and finite, got -1'));
  });
});

describe('FedOpt server state', () => {
  const build: Array<[string, () => FedOpt, string[]]> = [
    ['FedAvgM', () => new FedAvgM({ serverLearningRate: 0.5 }), ['momentum']],
    ['FedAdam', () => new FedAdam({ serverLearningRate: 0.05, tau: 1e-3 }), ['firstMoment', 'secondMoment']],
    ['FedYogi', () => new FedYogi({ serverLearningRate: 0.05 }), ['firstMoment', 'secondMoment']],
    ['FedAdagrad', () => new FedAdagrad({ beta1: 0.5 }), ['firstMoment', 'secondMoment']],
  ];

  it.each(build)('%s: a strategy restored from state() takes bit for bit the next rounds of the original', async (_name, make, names) => {
    const original = make();
    expect(original.state()).toEqual({ scalars: {}, tensors: {} });
    const [, second] = await runRounds(original, initial, rounds.slice(0, 2));
    const saved = original.state();
    expect(Object.keys(saved.tensors).sort()).toEqual(names.sort());
    for (const group of Object.values(saved.tensors)) expect(group.map((t) => t.name)).toEqual(LAYOUT.map((l) => l.name));

    const restored = make();
    restored.restore(saved);
    const rest = rounds.slice(2);
    const fromOriginal = await runRounds(original, second, rest);
    // The state handed out is a copy: the original's later rounds did not change it.
    const fromRestored = await runRounds(restored, second, rest);
    fromRestored.forEach((global, r) => global.forEach((tensor, t) => expect(tensor.data).toEqual(fromOriginal[r][t].data)));
    expect(restored.state()).toEqual(original.state());
  });

  it.each(build)('%s: restoring an empty state starts over from zero state', async (_name, make) => {
    const used = make();
    await runRounds(used, initial, rounds.slice(0, 2));
    used.restore({ scalars: {}, tensors: {} });
    const [again] = await runRounds(used, initial, rounds.slice(0, 1));
    const [fresh] = await runRounds(make(), initial, rounds.slice(0, 1));
    again.forEach((tensor, t) => expect(tensor.data).toEqual(fresh[t].data));
  });

  it('refuses a state that is not its own with FEDTL_ERR_CHECKPOINT_CORRUPT', async () => {
    const fedAvgM = new FedAvgM();
    await runRounds(fedAvgM, initial, rounds.slice(0, 1));
    const saved = fedAvgM.state();
    const corrupt = expect.objectContaining({ code: 'FEDTL_ERR_CHECKPOINT_CORRUPT' });
    expect(() => new FedAdam().restore(saved)).toThrow(corrupt);
    expect(() => new FedAvgM().restore({ ...saved, scalars: { step: 1 } })).toThrow(corrupt);
    expect(() => new FedAvgM().restore({ scalars: {}, tensors: { momentum: saved.tensors.momentum.slice(1) } })).not.toThrow();
    const adam = new FedAdam();
    await runRounds(adam, initial, rounds.slice(0, 1));
    const { firstMoment, secondMoment } = adam.state().tensors;
    const misshapen = secondMoment.map((t, i) => (i === 0 ? { ...t, shape: [2, 5] } : t));
    expect(() => new FedAdam().restore({ scalars: {}, tensors: { firstMoment, secondMoment: misshapen } })).toThrow(corrupt);
    expect(() => new FedAdam().restore({ scalars: {}, tensors: { firstMoment } })).toThrow(corrupt);
  });

  it('refuses a restored state that does not fit the weights when the round opens, before clients train', async () => {
    const strategy = new FedAvgM();
    await runRounds(strategy, initial, rounds.slice(0, 1));
    strategy.restore({ scalars: {}, tensors: { momentum: strategy.state().tensors.momentum.slice(1) } });
    expect(() => strategy.beginRound(2, initial)).toThrow(expect.objectContaining({ code: 'FEDTL_ERR_CHECKPOINT_CORRUPT' }));
  });

  it('hands out a copy of its state: changing it changes nothing inside', async () => {
    const strategy = new FedAvgM();
    await runRounds(strategy, initial, rounds.slice(0, 1));
    const before = strategy.state().tensors.momentum[0].data[0];
    strategy.state().tensors.momentum[0].data[0] = before + 1;
    expect(strategy.state().tensors.momentum[0].data[0]).toBe(before);
  });

  it('returns null when there is nothing to aggregate, without touching the state', async () => {
    const strategy = new FedAvgM();
    await runRounds(strategy, initial, rounds.slice(0, 1));
    const before = strategy.state();
    expect(await aggregateUpdates(strategy, 2, initial, [])).toBeNull();
    expect(strategy.state()).toEqual(before);
  });
});
