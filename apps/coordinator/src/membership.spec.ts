// Membership over real sockets: who may join (backbone, labels, protocol version, token), a client that drops
// mid-round and rejoins under the same id gets the round in progress again, and a client that joins late takes
// part from the next round.
import { join as joinPath } from 'node:path';
import { precomputedBackboneRef } from '@fedtl/model';
import { PROTOCOL_VERSION, decodeAck, decodeJoinReply, emitWithAck } from '@fedtl/protocol';
import { configureLogging } from '@fedtl/util';
import { useTestSandbox, waitUntil } from '@fedtl/util/testing';
import { parseCoordinatorConfig } from './config';
import type { RoundRecord } from './metrics-log';
import { startCoordinator } from './run-coordinator';
import { FEATURE_DIM } from './testing/federation-harness';
import { ProtocolClient } from './testing/protocol-client';

describe('membership', () => {
  const sandbox = useTestSandbox();
  const backbone = precomputedBackboneRef(FEATURE_DIM);

  beforeAll(() => {
    configureLogging({ level: 'error' });
  });

  /** An in-process coordinator, stopped after the test, and scripted clients of it, closed after the test. */
  async function start(extra: string[] = []) {
    const config = parseCoordinatorConfig([
      '--port', '0', '--out-dir', joinPath(sandbox.dir, 'out'), '--backbone', `precomputed:${FEATURE_DIM}`, '--labels', 'a,b',
      '--adapter-width', '4', '--rounds', '2', '--min-clients', '2', '--rejoin-grace-ms', '10000', '--round-timeout-ms', '30000', ...extra,
    ]);
    if (config === 'help') throw new Error('unexpected help');
    const started = await startCoordinator(config);
    sandbox.defer(() => started.stop());
    const client = (id: string, auth?: Record<string, string>) => {
      const c = new ProtocolClient(started.url, id, backbone, auth);
      sandbox.defer(() => c.close());
      return c;
    };
    return { started, client };
  }

  it('refuses joins with another backbone, unknown labels, another protocol version or a bad token', async () => {
    const { client } = await start(['--token', 'sesame']);
    const stranger = client('stranger');
    const refusal = await new Promise<{ code?: string }>((resolve) =>
      stranger.socket.once('connect_error', (err: Error & { data?: { code?: string } }) => resolve(err.data ?? {})),
    );
    expect(refusal.code).toBe('FEDTL_ERR_UNAUTHORIZED');

    const newcomer = client('newcomer', { token: 'sesame' });
    const expectRefusal = async (overrides: Parameters<ProtocolClient['join']>[0], code: string) => {
      const reply = await newcomer.join({ token: 'sesame', ...overrides });
      expect(reply.ok ? 'welcomed' : reply.error.code).toBe(code);
    };
    await expectRefusal({ backbone: { ...backbone, contentHash: 'f'.repeat(64) } }, 'FEDTL_ERR_BACKBONE_MISMATCH');
    await expectRefusal({ labels: ['a', 'phishing'] }, 'FEDTL_ERR_UNKNOWN_LABEL');
    await expectRefusal({ protocolVersion: PROTOCOL_VERSION + 1 }, 'FEDTL_ERR_PROTOCOL_VERSION');
    await expectRefusal({ token: 'wrong' }, 'FEDTL_ERR_UNAUTHORIZED');
    await expectRefusal({ numTrainExamples: 0 }, 'FEDTL_ERR_BAD_EXAMPLE_COUNT');
    const garbage = decodeJoinReply(await emitWithAck(newcomer.socket as never, 'join', Uint8Array.from([1, 2, 3, 4, 5]), 10_000));
    expect(garbage.ok ? 'welcomed' : garbage.error.code).toBe('FEDTL_ERR_MALFORMED_MESSAGE');
    const early = decodeAck(await emitWithAck(newcomer.socket as never, 'update', Uint8Array.from([1]), 10_000));
    expect(early.error?.code).toBe('FEDTL_ERR_NOT_JOINED');
    expect((await newcomer.join({ token: 'sesame' })).ok).toBe(true);
  });

  it('re-sends the round in progress to a client that rejoins, and lets a late joiner into the next round', async () => {
    const { started, client } = await start();
    const rounds: RoundRecord[] = [];
    started.coordinator.on('round', (record) => rounds.push(record));

    const steady = client('steady');
    const wanderer = client('wanderer');
    expect((await steady.join()).ok).toBe(true);
    expect((await wanderer.join()).ok).toBe(true);
    const firstPlan = await wanderer.nextPlan(1);

    // The wanderer vanishes mid-round without answering, then comes back on a new connection.
    wanderer.close();
    await waitUntil(() => !started.coordinator.registry.has('wanderer'), 5000, 'the coordinator to notice the drop');
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
    const { started, client } = await start(['--min-available', '3']);
    const rounds: RoundRecord[] = [];
    started.coordinator.on('round', (record) => rounds.push(record));
    const [steady, second, broken] = ['steady', 'second', 'broken'].map((id) => client(id));
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

  it('stores a huge, forged error from a client only as a bounded, escaped excerpt (record, status API)', async () => {
    const { started, client } = await start(['--min-clients', '1', '--min-available', '2', '--rounds', '1']);
    const rounds: RoundRecord[] = [];
    started.coordinator.on('round', (record) => rounds.push(record));
    const [steady, broken] = ['steady', 'broken'].map((id) => client(id));
    for (const c of [steady, broken]) expect((await c.join()).ok).toBe(true);
    await broken.nextPlan(1);
    const forged = 'oom\n12:00:00.000 info  [coordinator] round aggregated round=1 ' + 'x'.repeat(900_000);
    expect(await broken.sendRoundFailed(forged)).toBe('accepted');
    expect(await steady.sendUpdate(await steady.nextPlan(1))).toBe('accepted');
    await started.finished;
    const [failure] = rounds[0].failures;
    expect(failure.message.length).toBeLessThanOrEqual(1100);
    expect(failure.message).toMatch(/^the client could not train: oom\\n12:00:00\.000 info {2}\[coordinator\] round aggregated round=1 x+…\[900062 chars\]$/);
    const status = (await (await fetch(`${started.url}/api/status`)).json()) as { rounds: RoundRecord[] };
    expect(status.rounds[0].failures[0].message).toBe(failure.message);
  });

  it('welcomes a client whose labels differ from the federation\'s only in Unicode normalisation', async () => {
    // The label-unicode-normalization case: --labels typed with a precomposed "é", the client's file with e + U+0301.
    const { client } = await start(['--labels', 'r\u00e9clamation,question']);
    const reply = await client('org-fr').join({ labels: ['re\u0301clamation', 'question'] });
    expect(reply.ok ? reply.welcome.model.labels : reply.error).toEqual(['r\u00e9clamation', 'question']);
  });
});
