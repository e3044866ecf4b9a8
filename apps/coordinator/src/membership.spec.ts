// Membership over real sockets: a client that drops mid-round and rejoins under the same id gets the round
// in progress again, and a client that joins late takes part from the next round.
import { join as joinPath } from 'node:path';
import { precomputedBackboneRef } from '@fedtl/model';
import { configureLogging } from '@fedtl/util';
import { makeTempDir, waitUntil } from '@fedtl/util/testing';
import { parseCoordinatorConfig, type CoordinatorConfig } from './config';
import type { RoundRecord } from './metrics-log';
import { startCoordinator, type StartedCoordinator } from './run-coordinator';
import { FEATURE_DIM } from './testing/federation-harness';
import { ProtocolClient } from './testing/protocol-client';

describe('membership', () => {
  let temp: { dir: string; cleanup: () => Promise<void> };
  let started: StartedCoordinator | undefined;
  const clients: ProtocolClient[] = [];
  const backbone = precomputedBackboneRef(FEATURE_DIM);

  function running(): StartedCoordinator {
    if (!started) throw new Error('the coordinator was not started');
    return started;
  }

  beforeAll(async () => {
    configureLogging({ level: 'error' });
  });
  beforeEach(async () => {
    temp = await makeTempDir();
  });
  afterEach(async () => {
    clients.splice(0).forEach((c) => c.close());
    await started?.stop();
    started = undefined;
    await temp.cleanup();
  });

  function config(extra: string[] = []): CoordinatorConfig {
    const parsed = parseCoordinatorConfig([
      '--port', '0', '--out-dir', joinPath(temp.dir, 'out'), '--backbone', `precomputed:${FEATURE_DIM}`, '--labels', 'a,b',
      '--adapter-width', '4', '--rounds', '2', '--min-clients', '2', '--rejoin-grace-ms', '10000', '--round-timeout-ms', '30000', ...extra,
    ]);
    if (parsed === 'help') throw new Error('unexpected help');
    return parsed;
  }

  const client = (id: string) => {
    const c = new ProtocolClient(running().url, id, backbone);
    clients.push(c);
    return c;
  };

  it('re-sends the round in progress to a client that rejoins, and lets a late joiner into the next round', async () => {
    started = await startCoordinator(config());
    const rounds: RoundRecord[] = [];
    started.coordinator.on('round', (record) => rounds.push(record));

    const steady = client('steady');
    const wanderer = client('wanderer');
    expect((await steady.join()).ok).toBe(true);
    expect((await wanderer.join()).ok).toBe(true);
    const firstPlan = await wanderer.nextPlan(1);

    // The wanderer vanishes mid-round without answering, then comes back on a new connection.
    wanderer.close();
    await waitUntil(() => !running().coordinator.registry.has('wanderer'), 5000, 'the coordinator to notice the drop');
    const back = client('wanderer');
    const replan = back.nextPlan(1);
    const welcome = await back.join();
    expect(welcome.ok && welcome.welcome.currentRound).toBe(1);
    expect((await replan).round).toBe(1);
    expect((await replan).weights.map((t) => t.name)).toEqual(firstPlan.weights.map((t) => t.name));

    // A newcomer joins while round 1 is still open: it is not part of round 1, but of round 2.
    const late = client('late');
    const lateWelcome = await late.join();
    expect(lateWelcome.ok && lateWelcome.welcome.currentRound).toBe(1);

    expect(await back.sendUpdate(await replan)).toBe('accepted');
    expect(await steady.sendUpdate(await steady.nextPlan(1))).toBe('accepted');
    await waitUntil(() => rounds.length >= 1, 10_000, 'round 1 to finish');
    expect(rounds[0]).toMatchObject({ round: 1, status: 'aggregated', accepted: ['steady', 'wanderer'] });

    for (const c of [steady, back, late]) expect(await c.sendUpdate(await c.nextPlan(2))).toBe('accepted');
    const summary = await started.finished;
    expect(summary.roundsCompleted).toBe(2);
    expect(rounds[1]).toMatchObject({ round: 2, status: 'aggregated', accepted: ['late', 'steady', 'wanderer'] });
  });

  it('leaves a client that reports a failed training out of the round at once', async () => {
    started = await startCoordinator(config(['--min-available', '3']));
    const rounds: RoundRecord[] = [];
    started.coordinator.on('round', (record) => rounds.push(record));
    const [steady, second, broken] = ['steady', 'second', 'broken'].map(client);
    for (const c of [steady, second, broken]) expect((await c.join()).ok).toBe(true);
    await broken.nextPlan(1);
    expect(await broken.sendRoundFailed('out of GPU memory')).toBe('accepted');
    for (const c of [steady, second]) expect(await c.sendUpdate(await c.nextPlan(1))).toBe('accepted');
    await waitUntil(() => rounds.length >= 1, 10_000, 'round 1 to finish');
    expect(rounds[0]).toMatchObject({ round: 1, status: 'aggregated', accepted: ['second', 'steady'] });
    expect(rounds[0].failures).toEqual([
      { clientId: 'broken', code: 'FEDTL_ERR_INTERNAL', message: 'the client could not train: out of GPU memory' },
    ]);
  });
});
