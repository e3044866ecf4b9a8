// A coordinator and three clients as separate processes over real sockets, end to end.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { initialWeights } from '@fedtl/model';
import { encodeUpdate, topkCount } from '@fedtl/protocol';
import { logEvents, useTestSandbox, waitUntil, writeSyntheticFeatureFiles } from '@fedtl/util/testing';
import type { RoundRecord } from './metrics-log';
import {
  FEATURE_DIM,
  maxAbsDifference,
  readAuditedUpdates,
  readCheckpointWeights,
  referenceFedAvg,
  startClientProcess,
  startCoordinatorProcess,
  HARNESS_SPEC,
} from './testing/federation-harness';

const SPEC = HARNESS_SPEC;

describe('federation of separate processes', () => {
  const sandbox = useTestSandbox();

  async function readRecords(outDir: string): Promise<RoundRecord[]> {
    return (await readFile(join(outDir, 'metrics.jsonl'), 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l));
  }

  it('runs 3 rounds with 3 clients and the global weights equal FedAvg of the clients’ updates', async () => {
    const outDir = join(sandbox.dir, 'out');
    const files = await writeSyntheticFeatureFiles(sandbox.dir, { clients: 3, dim: FEATURE_DIM, trainPerClient: [24, 40, 64], testPerClient: 30, seed: 3 });
    const { process: coordinator, url } = await startCoordinatorProcess(outDir, ['--rounds', '3', '--min-clients', '3', '--seed', '11']);
    sandbox.processes.push(coordinator);
    const clients = files.map((file, i) => startClientProcess(url, `client-${i + 1}`, file));
    sandbox.processes.push(...clients);

    expect(await coordinator.exited).toBe(0);
    expect(await Promise.all(clients.map((c) => c.exited))).toEqual([0, 0, 0]);

    let previous = initialWeights(SPEC, 11);
    for (let round = 1; round <= 3; round++) {
      const updates = await readAuditedUpdates(outDir, round);
      expect(updates.map((u) => u.clientId)).toEqual(['client-1', 'client-2', 'client-3']);
      expect(updates.map((u) => u.numExamples)).toEqual([24, 40, 64]);
      for (const update of updates) {
        expect(update.delta.map((t) => t.name).every((name) => name.startsWith('adapter/') || name.startsWith('head/'))).toBe(true);
      }
      const expected = referenceFedAvg(previous, updates);
      const actual = await readCheckpointWeights(outDir, round);
      expect(maxAbsDifference(actual, expected)).toBeLessThan(1e-6);
      previous = actual;
    }
    const records = await readRecords(outDir);
    expect(records.map((r) => [r.round, r.status, r.accepted.length, r.failures])).toEqual([
      [1, 'aggregated', 3, []],
      [2, 'aggregated', 3, []],
      [3, 'aggregated', 3, []],
    ]);
    expect(records[2].evaluation.accuracy).toBeGreaterThan(0.8);
    expect(Object.keys(records[2].clients).sort()).toEqual(['client-1', 'client-2', 'client-3']);
  });

  it('runs rounds with top-k compression: the clients send at least 8× fewer update bytes, at most k values a tensor, and FedAvg of the decoded updates is exact', async () => {
    const outDir = join(sandbox.dir, 'out');
    // 64-d features and a 64-wide adapter: 8,450 values, enough for 1% of each tensor to be a handful of entries.
    const dim = 64;
    const files = await writeSyntheticFeatureFiles(sandbox.dir, { clients: 2, dim, trainPerClient: [32, 48], testPerClient: 20, seed: 8 });
    const { process: coordinator, url } = await startCoordinatorProcess(outDir, ['--rounds', '2', '--min-clients', '2', '--seed', '5', '--adapter-width', '64', '--compression', 'topk:0.01'], { dim });
    sandbox.processes.push(coordinator);
    const clients = files.map((file, i) => startClientProcess(url, `client-${i + 1}`, file, [], { dim }));
    sandbox.processes.push(...clients);

    // A client exits 0 only after the coordinator's FINISHED verdict.
    expect(await coordinator.exited).toBe(0);
    expect(await Promise.all(clients.map((c) => c.exited))).toEqual([0, 0]);
    const records = await readRecords(outDir);
    expect(records.map((r) => [r.round, r.status, r.accepted.length])).toEqual([[1, 'aggregated', 2], [2, 'aggregated', 2]]);
    let previous = initialWeights({ ...SPEC, inputDim: dim, adapterWidth: 64 }, 5);
    for (const record of records) {
      const updates = await readAuditedUpdates(outDir, record.round);
      for (const update of updates) {
        for (const tensor of update.delta) expect(tensor.data.filter((v) => v !== 0).length).toBeLessThanOrEqual(topkCount(tensor.data.length, 0.01));
      }
      // The same updates in float32 (what a client without compression sends): the bytes the round would have cost.
      const float32Bytes = updates.reduce((sum, update) => sum + encodeUpdate(update).byteLength, 0);
      expect(record.updateBytesUp).toBeGreaterThan(0);
      expect(float32Bytes / (record.updateBytesUp ?? Infinity)).toBeGreaterThanOrEqual(8);
      const actual = await readCheckpointWeights(outDir, record.round);
      expect(maxAbsDifference(actual, referenceFedAvg(previous, updates))).toBeLessThan(1e-6);
      previous = actual;
    }
  });

  it('completes a round with the others when a client dies mid-round', async () => {
    const outDir = join(sandbox.dir, 'out');
    const files = await writeSyntheticFeatureFiles(sandbox.dir, { clients: 3, dim: FEATURE_DIM, trainPerClient: 40, testPerClient: 20, seed: 5 });
    const { process: coordinator, url } = await startCoordinatorProcess(outDir, [
      '--rounds', '2', '--min-clients', '2', '--round-timeout-ms', '60000', '--rejoin-grace-ms', '1000', '--seed', '3',
    ]);
    sandbox.processes.push(coordinator);
    // The victim is killed as soon as the first update of round 1 is in: it dies mid-round or between rounds,
    // and either way round 2 must run on the survivors alone.
    const survivors = [startClientProcess(url, 'client-1', files[0]), startClientProcess(url, 'client-2', files[1])];
    const victim = startClientProcess(url, 'client-3', files[2]);
    sandbox.processes.push(...survivors, victim);
    await waitUntil(async () => {
      try {
        return (await readAuditedUpdates(outDir, 1)).length >= 1;
      } catch {
        return false;
      }
    }, 60_000, 'the first update of round 1');
    victim.child.kill('SIGKILL');

    expect(await coordinator.exited).toBe(0);
    const records = await readRecords(outDir);
    const aggregated = records.filter((r) => r.status === 'aggregated');
    expect(aggregated.map((r) => r.round)).toEqual([1, 2]);
    // Round 2 certainly ran without the victim; the run finished with the two survivors.
    expect(aggregated[1].accepted).toEqual(['client-1', 'client-2']);
    for (const round of [1, 2]) {
      const updates = await readAuditedUpdates(outDir, round);
      const previous = round === 1 ? initialWeights({ ...SPEC }, 3) : await readCheckpointWeights(outDir, round - 1);
      expect(maxAbsDifference(await readCheckpointWeights(outDir, round), referenceFedAvg(previous, updates))).toBeLessThan(1e-6);
    }
  });

  it('never takes a client that computes for longer than many heartbeat timeouts for dead', async () => {
    const outDir = join(sandbox.dir, 'out');
    // client-2's every training step is one batch of 4,000 rows through a 64→512→64 adapter on the plain-JS
    // backend: seconds of uninterrupted CPU work per step (about 6 s on a quiet 2-core machine, more under load),
    // against a 1 s heartbeat timeout. A client that trained on the thread serving its connection could not
    // answer a ping during such a step; training runs in a worker thread, so it answers them all.
    const dim = 64;
    const files = await writeSyntheticFeatureFiles(sandbox.dir, { clients: 2, dim, trainPerClient: [40, 4000], testPerClient: 20, seed: 4 });
    const { process: coordinator, url } = await startCoordinatorProcess(outDir, [
      '--rounds', '2', '--min-clients', '2', '--heartbeat-interval-ms', '250', '--heartbeat-timeout-ms', '1000',
      '--adapter-width', '512', '--local-epochs', '2', '--batch-size', '4000',
      '--round-timeout-ms', '600000', '--eval-timeout-ms', '600000', '--log-level', 'info',
    ], { dim });
    sandbox.processes.push(coordinator);
    const clients = files.map((file, i) => startClientProcess(url, `client-${i + 1}`, file, ['--log-level', 'info'], { dim }));
    sandbox.processes.push(...clients);

    expect(await coordinator.exited).toBe(0);
    const records = await readRecords(outDir);
    expect(records.map((r) => [r.round, r.status, r.accepted, r.failures])).toEqual([
      [1, 'aggregated', ['client-1', 'client-2'], []],
      [2, 'aggregated', ['client-1', 'client-2'], []],
    ]);
    // The premise held in every round: each of client-2's training steps (one step per local epoch, as the
    // batch is the whole data) took longer than the heartbeat timeout. Each update carries its training time.
    for (const round of [1, 2]) {
      const heavy = (await readAuditedUpdates(outDir, round)).find((u) => u.clientId === 'client-2');
      const secondsPerStep = (heavy?.metrics.seconds ?? 0) / 2;
      expect(secondsPerStep).toBeGreaterThan(1);
    }
    // Nobody was dropped or rejoined: the only disconnects come when the run is over (the coordinator ending the
    // sessions after its verdict, or a client leaving once it acknowledged the verdict).
    const coordinatorEvents = logEvents(coordinator.output());
    expect(coordinatorEvents.filter((event) => event.msg === 'round aggregated').map((event) => event.round)).toEqual([1, 2]);
    const disconnects = coordinatorEvents.filter((event) => event.msg === 'client disconnected');
    expect(disconnects.filter((event) => event.reason !== 'server namespace disconnect' && event.reason !== 'client namespace disconnect')).toEqual([]);
    const heavyClientEvents = logEvents(clients[1].output());
    expect(heavyClientEvents.map((event) => event.msg)).toContain('the run finished');
    expect(heavyClientEvents.filter((event) => event.msg.startsWith('connection lost'))).toEqual([]);
  }, 300_000);
});
