// Membership over real sockets: who may join (backbone, labels, protocol version, token), a client that drops
// mid-round and rejoins under the same id gets the round in progress again, and a client that joins late takes
// part from the next round.
import { join as joinPath } from 'node:path';
import { precomputedBackboneRef } from '@fedtl/model';
import { PROTOCOL_VERSION, decodeAck, decodeJoinReply, emitWithAck } from '@fedtl/protocol';
import { configureLogging } from '@fedtl/util';
import { TcpProxy, useTestSandbox, waitUntil } from '@fedtl/util/testing';
import { parseCoordinatorConfig } from './config';
import type { RoundRecord } from './metrics-log';
import { startCoordinator } from './run-coordinator';
import { FEATURE_DIM } from './testing/federation-harness';
import { ProtocolClient, type ProtocolClientOptions } from './testing/protocol-client';

const TOKEN = 'sesame-7f3a9c21d4e8b605';

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
    const started = await startCoordinator(config);
    sandbox.defer(() => started.stop());
    const client = (id: string, options?: ProtocolClientOptions) => {
      const c = new ProtocolClient(started.url, id, backbone, options);
      sandbox.defer(() => c.close());
      return c;
    };
    return { started, client };
  }

  it('refuses joins with another backbone, unknown labels, another protocol version or a bad token', async () => {
    const { client } = await start(['--token', TOKEN]);
    // Without the token the handshake itself is refused (HTTP 401), before any WebSocket opens.
    const stranger = client('stranger');
    const refusal = await new Promise<string>((resolve) => stranger.socket.once('connect_error', (err: Error & { description?: Error }) => resolve(String(err.description?.message))));
    expect(refusal).toBe('Unexpected server response: 401');
    // The token in the header but not in Socket.IO's auth: the namespace middleware still refuses.
    const halfway = client('halfway', { token: TOKEN, auth: { token: 'not-the-federation-token' } });
    const middleware = await new Promise<{ code?: string }>((resolve) =>
      halfway.socket.once('connect_error', (err: Error & { data?: { code?: string } }) => resolve(err.data ?? {})),
    );
    expect(middleware.code).toBe('FEDTL_ERR_UNAUTHORIZED');

    const newcomer = client('newcomer', { token: TOKEN });
    const expectRefusal = async (overrides: Parameters<ProtocolClient['join']>[0], code: string) => {
      const reply = await newcomer.join({ token: TOKEN, ...overrides });
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
    expect((await newcomer.join({ token: TOKEN })).ok).toBe(true);
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

  it('refuses a second live connection under a joined id; the holder keeps its session and its update counts', async () => {
    // A short heartbeat interval: the holder proves it is alive with its next pong.
    const { started, client } = await start(['--heartbeat-interval-ms', '200', '--heartbeat-timeout-ms', '5000']);
    const rounds: RoundRecord[] = [];
    started.coordinator.on('round', (record) => rounds.push(record));
    const holder = client('org-1');
    expect((await holder.join()).ok).toBe(true);

    const impostor = client('org-1');
    const refused = await impostor.join({ numTrainExamples: 999 });
    expect(refused.ok ? 'welcomed' : refused.error.code).toBe('FEDTL_ERR_DUPLICATE_CLIENT');
    expect(refused.ok ? '' : refused.error.message).toContain('expected a client id no live connection holds, got "org-1"');
    expect(holder.socket.connected).toBe(true);
    expect(started.coordinator.registry.get('org-1')?.join.numTrainExamples).toBe(40);

    const other = client('org-2');
    expect((await other.join()).ok).toBe(true);
    for (const c of [holder, other]) expect(await c.sendUpdate(await c.nextPlan(1))).toBe('accepted');
    await waitUntil(() => rounds.length >= 1, 10_000, 'round 1 to finish');
    expect(rounds[0]).toMatchObject({ round: 1, status: 'aggregated', accepted: ['org-1', 'org-2'] });
    expect(impostor.plans).toEqual([]);
  });

  it('refuses a second Join on a joined connection', async () => {
    const { client } = await start();
    const twice = client('twice');
    expect((await twice.join()).ok).toBe(true);
    const again = await twice.join();
    expect(again.ok ? 'welcomed' : again.error.code).toBe('FEDTL_ERR_DUPLICATE_CLIENT');
    expect(again.ok ? '' : again.error.message).toBe('expected one join per connection, got another on a connection that joined as "twice"');
  });

  it('answers an event outside the protocol with FEDTL_ERR_MALFORMED_MESSAGE instead of leaving its sender to time out', async () => {
    const { client } = await start();
    const curious = client('curious');
    const reply = decodeAck(await emitWithAck(curious.socket as never, 'download-model' as 'update', new Uint8Array([1, 2, 3]), 10_000));
    expect(reply).toEqual({ ok: false, error: { code: 'FEDTL_ERR_MALFORMED_MESSAGE', message: 'expected one of the events join, update, evaluate-report, round-failed, evaluate-failed, secagg-advertise, secagg-shares, secagg-masked-input, secagg-unmask-shares, got "download-model"' } });
    expect((await curious.join()).ok).toBe(true);
  });

  it('closes a connection that does not join in time, telling it why, so idle sockets cannot fill the connection caps', async () => {
    const { client } = await start(['--ack-timeout-ms', '200', '--heartbeat-interval-ms', '200', '--heartbeat-timeout-ms', '400']);
    const idle = client('idle');
    const told = new Promise<string>((resolve) => idle.socket.once('disconnect', (reason: string) => resolve(reason)));
    expect(await told).toBe('io server disconnect');
    expect(idle.coordinatorErrors).toEqual([{ code: 'FEDTL_ERR_NOT_JOINED', message: 'expected a join within 800 ms of connecting, got none; closing the connection' }]);
  });

  it('names a port another process listens on as a configuration error, not a stack trace', async () => {
    const { started } = await start();
    const port = new URL(started.url).port;
    const second = parseCoordinatorConfig(['--port', port, '--out-dir', joinPath(sandbox.dir, 'second'), '--backbone', `precomputed:${FEATURE_DIM}`, '--labels', 'a,b']);
    await expect(startCoordinator(second)).rejects.toMatchObject({ code: 'FEDTL_ERR_BAD_CONFIG', message: expect.stringMatching(new RegExp(`^--port: expected a free port on 127\\.0\\.0\\.1, got ${port}, which another process is listening on \\(EADDRINUSE\\)`)) });
  });

  it('refuses client ids made of dots alone', async () => {
    const { client } = await start();
    for (const id of ['.', '..']) {
      const reply = await client(id).join();
      expect(reply.ok ? 'welcomed' : reply.error.code).toBe('FEDTL_ERR_MALFORMED_MESSAGE');
    }
  });

  it('admits a rejoin whose old connection is half-open once the heartbeat closes that one', async () => {
    const { started, client } = await start(['--heartbeat-interval-ms', '200', '--heartbeat-timeout-ms', '1000']);
    const proxy = await TcpProxy.start(Number(new URL(started.url).port));
    sandbox.defer(() => proxy.close());
    const before = new ProtocolClient(`http://127.0.0.1:${proxy.port}`, 'wanderer', backbone);
    sandbox.defer(() => before.close());
    expect((await before.join()).ok).toBe(true);

    // The old link goes silent but stays open, as after a network drop; the client comes back on a new one.
    expect(proxy.freezeConnections()).toBe(1);
    const back = client('wanderer');
    const welcome = await back.join();
    expect(welcome.ok ? 'welcomed' : welcome.error.code).toBe('welcomed');
    expect(started.coordinator.registry.has('wanderer')).toBe(true);
  });

  it('re-sends the round plan at most once per connection and --max-plan-resends times per client and round', async () => {
    const { started, client } = await start(['--max-plan-resends', '2']);
    const steady = client('steady');
    const chatty = client('chatty');
    for (const c of [steady, chatty]) expect((await c.join()).ok).toBe(true);
    await chatty.nextPlan(1);
    // 200 Joins on the joined connection: each refused, none re-sends the plan.
    const codes = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const reply = await chatty.join();
      codes.add(reply.ok ? 'welcomed' : reply.error.code);
    }
    expect([...codes]).toEqual(['FEDTL_ERR_DUPLICATE_CLIENT']);
    expect(chatty.plans).toHaveLength(1);

    // Rejoining on new connections: the plan comes again twice, then an error says why it does not.
    const received: number[] = [];
    let current = chatty;
    for (let i = 0; i < 4; i++) {
      current.close();
      await waitUntil(() => !started.coordinator.registry.has('chatty'), 5000, 'the coordinator to notice the drop');
      current = client('chatty');
      expect((await current.join()).ok).toBe(true);
      received.push(current.plans.length);
    }
    expect(current.coordinatorErrors.map((e) => e.code)).toEqual(['FEDTL_ERR_RATE_LIMITED']);
    expect(received).toEqual([1, 1, 0, 0]);
  });

  it('disconnects a client that lets --max-missed-rounds rounds pass in silence, and selects it no more', async () => {
    const { started, client } = await start(['--min-clients', '1', '--min-available', '3', '--round-timeout-ms', '1500', '--max-missed-rounds', '1']);
    const rounds: RoundRecord[] = [];
    started.coordinator.on('round', (record) => rounds.push(record));
    const good = client('good');
    good.onPlan(async (plan) => void (await good.sendUpdate(plan)));
    const silent = ['silent-1', 'silent-2'].map((id) => client(id));
    for (const c of [good, ...silent]) expect((await c.join()).ok).toBe(true);
    await waitUntil(() => rounds.length >= 1, 10_000, 'round 1 to finish');
    expect(rounds[0]).toMatchObject({ round: 1, status: 'aggregated', accepted: ['good'] });
    expect(rounds[0].failures.map((f) => [f.clientId, f.code])).toEqual([
      ['silent-1', 'FEDTL_ERR_ROUND_TIMEOUT'],
      ['silent-2', 'FEDTL_ERR_ROUND_TIMEOUT'],
    ]);
    await waitUntil(() => silent.every((c) => !c.socket.connected), 5000, 'the silent clients to be disconnected');
    expect(silent[0].coordinatorErrors.map((e) => e.message)).toContain('no answer in 1 rounds in a row (--max-missed-rounds 1); out of this run');

    const back = client('silent-1');
    const refused = await back.join();
    expect(refused.ok ? 'welcomed' : refused.error.code).toBe('FEDTL_ERR_ROUND_TIMEOUT');
    // Round 2 runs with answering clients only and closes as soon as they answered.
    const others = ['good-2', 'good-3'].map((id) => client(id));
    for (const c of others) {
      c.onPlan(async (plan) => void (await c.sendUpdate(plan)));
      expect((await c.join()).ok).toBe(true);
    }
    await started.finished;
    expect(rounds[1]).toMatchObject({ round: 2, status: 'aggregated', selected: ['good', 'good-2', 'good-3'], accepted: ['good', 'good-2', 'good-3'], failures: [] });
    expect(good.errors).toEqual([]);
  });

  it('refuses joins beyond --max-clients', async () => {
    const { client } = await start(['--max-clients', '2', '--min-available', '3']);
    for (const id of ['one', 'two']) expect((await client(id).join()).ok).toBe(true);
    const third = await client('three').join();
    expect(third.ok ? 'welcomed' : third.error.message).toBe('expected at most 2 joined clients (--max-clients), got one more ("three")');
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
