// The load suite end to end with tiny numbers: a real coordinator process, real sockets, every round completed.
import { configureLogging } from '@fedtl/util';
import { measureLoad } from './index';

describe('load benchmark', () => {
  beforeAll(() => configureLogging({ level: 'warn' }));

  it('runs 2 and 3 simulated clients for 2 rounds at two model sizes and reports every figure', async () => {
    const result = await measureLoad({ clients: [2, 3], rounds: 2, dim: 8, adapterWidth: 2, compareAdapterWidth: 4, seed: 3, connectBatch: 2 });

    expect(result.scenarios.map((s) => [s.clients, s.adapterWidth])).toEqual([[2, 2], [3, 2], [2, 4], [3, 4]]);
    for (const scenario of result.scenarios) {
      expect(scenario.clientErrors).toEqual([]);
      expect(scenario.roundsCompleted).toBe(2);
      expect(scenario.roundsPerMinute).toBeGreaterThan(0);
      expect(scenario.latencySeconds.p95).toBeGreaterThanOrEqual(scenario.latencySeconds.median);
      expect(scenario.peakRssBytes).toBeGreaterThanOrEqual(scenario.idleRssBytes);
      // Every round carries at least a plan and an update of the full model per client.
      expect(scenario.bytesPerRound).toBeGreaterThan(2 * scenario.clients * scenario.modelBytes);
    }
    expect(result.scenarios[2].modelParameters).toBeGreaterThan(result.scenarios[0].modelParameters);
    expect(result.memoryScaling.byClients.map((s) => [s.adapterWidth, s.fromClients, s.toClients])).toEqual([[2, 2, 3], [4, 2, 3]]);
    expect(result.memoryScaling.byModel?.clients).toBe(3);
    expect(typeof result.memoryScaling.modelCopiesPerClient).toBe('number');
    expect(result.machine.cores).toBeGreaterThan(0);
  }, 120_000);
});
