import { FedAvg } from '@fedtl/strategies';
import type { NamedTensor, Update } from '@fedtl/protocol';
import { RoundCollector, type RoundBounds } from './round-collector';
import { weightCaps } from './share-cap';

const global: NamedTensor[] = [{ name: 'head/out/bias', shape: [2], dtype: 'float32', data: Float32Array.from([0, 0]) }];
const spec = global.map(({ name, shape, dtype }) => ({ name, shape, dtype }));
const update = (clientId: string, values: number[], numExamples: number, change: Partial<Update> = {}): Update => ({
  runId: 'run',
  round: 1,
  clientId,
  delta: [{ ...global[0], data: Float32Array.from(values) }],
  numExamples,
  metrics: {},
  ...change,
});

/** A round of the given clients (declared counts), bounded as the coordinator bounds it. */
function round(declared: Record<string, number>, norm: RoundBounds['norm'] = { maxNorm: 100, action: 'clip' }, maxShare = 0.5) {
  const aggregator = new FedAvg().beginRound(1, global);
  const bounds: RoundBounds = { norm, caps: weightCaps(Object.values(declared), maxShare) };
  const collector = new RoundCollector('run', 1, new Set(Object.keys(declared)), spec, aggregator, (id) => declared[id], 60_000, bounds);
  const finish = async () => {
    const outcome = await collector.done();
    return { outcome, weights: Array.from(aggregator.finish(outcome.failures)?.weights[0].data ?? []) };
  };
  return { collector, finish };
}

describe('round collector bounds', () => {
  it('clips an update above the norm bound and records by what factor; the aggregate is FedAvg of the clipped update', async () => {
    const { collector, finish } = round({ honest: 10, big: 10 }, { maxNorm: 5, action: 'clip' });
    collector.accept('honest', update('honest', [1, 0], 10));
    const [x, y] = [Math.fround(3e37), Math.fround(4e37)];
    const norm = Math.sqrt(x * x + y * y);
    const clipped = [Math.fround(x * (5 / norm)), Math.fround(y * (5 / norm))];
    const aggregated = collector.accept('big', update('big', [x, y], 10));
    expect(Array.from(aggregated.delta[0].data)).toEqual(clipped);
    expect(clipped.map((v) => Math.round(v * 1e5) / 1e5)).toEqual([3, 4]);
    const { outcome, weights } = await finish();
    expect(outcome.bounded).toEqual({ big: { norm, clipFactor: 5 / norm, numExamples: 10, weight: 10 } });
    expect(weights).toEqual([Math.fround((1 + clipped[0]) / 2), Math.fround(clipped[1] / 2)]);
  });

  it('rejects an update above the bound with FEDTL_ERR_UPDATE_TOO_LARGE; the aggregate is FedAvg of the others', async () => {
    const { collector, finish } = round({ honest: 10, big: 1 }, { maxNorm: 5, action: 'reject' });
    collector.accept('honest', update('honest', [1, 2], 10));
    expect(() => collector.accept('big', update('big', [1e30, 0], 1))).toThrow(expect.objectContaining({ code: 'FEDTL_ERR_UPDATE_TOO_LARGE' }));
    const { outcome, weights } = await finish();
    expect(outcome.failures.map((f) => [f.clientId, f.code])).toEqual([['big', 'FEDTL_ERR_UPDATE_TOO_LARGE']]);
    expect(weights).toEqual([1, 2]);
  });

  it('holds a client that declared 4294967295 examples to the share cap against two honest ones', async () => {
    const { collector, finish } = round({ h1: 40, greedy: 4294967295, h2: 40 });
    collector.accept('h1', update('h1', [0, 0], 40));
    collector.accept('h2', update('h2', [0, 0], 40));
    collector.accept('greedy', update('greedy', [1, 1], 4294967295));
    const { outcome, weights } = await finish();
    // The greedy delta is 1 everywhere and the honest ones 0: the mean is exactly its share.
    expect(weights).toEqual([0.5, 0.5]);
    expect(outcome.bounded).toEqual({ greedy: { norm: Math.SQRT2, numExamples: 4294967295, weight: 80 } });
  });

  it('leaves FedAvg unchanged for honest clients when no cap binds', async () => {
    const { collector, finish } = round({ a: 24, b: 40, c: 64 });
    collector.accept('a', update('a', [1, 0], 24));
    collector.accept('b', update('b', [0, 1], 40));
    collector.accept('c', update('c', [1, 1], 64));
    const { outcome, weights } = await finish();
    expect(outcome.bounded).toEqual({});
    expect(weights).toEqual([Math.fround(88 / 128), Math.fround(104 / 128)]);
  });

  it('refuses training metrics out of range with FEDTL_ERR_BAD_REPORT', async () => {
    const { collector, finish } = round({ a: 10, b: 10 });
    expect(() => collector.accept('a', update('a', [0, 0], 10, { metrics: { accuracy: 7.5 } }))).toThrow(
      expect.objectContaining({ code: 'FEDTL_ERR_BAD_REPORT', message: 'update: metrics.accuracy: expected a number in [0, 1], got 7.5' }),
    );
    collector.accept('b', update('b', [0, 0], 10));
    expect((await finish()).outcome.failures.map((f) => f.code)).toEqual(['FEDTL_ERR_BAD_REPORT']);
  });

  it('only refuses an update for another run: the sender’s real update still counts', async () => {
    const { collector, finish } = round({ a: 10, b: 10 });
    expect(() => collector.accept('a', update('a', [5, 5], 10, { runId: 'old-run' }))).toThrow(expect.objectContaining({ code: 'FEDTL_ERR_WRONG_RUN' }));
    expect(collector.isPending('a')).toBe(true);
    collector.accept('a', update('a', [1, 1], 10));
    collector.accept('b', update('b', [1, 1], 10));
    const { outcome, weights } = await finish();
    expect(outcome).toMatchObject({ accepted: ['a', 'b'], failures: [] });
    expect(weights).toEqual([1, 1]);
  });
});
