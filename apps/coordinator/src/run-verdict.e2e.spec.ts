// Every run ends with a verdict: real coordinator and client processes over real sockets. A finished run sends
// its clients home with exit status 0; a failed one tells every connected client why (they exit non-zero with
// the cause) and the coordinator exits 1 even with a peer that never closes its connection; a signal stops the
// coordinator with 128 + its number and no verdict. Round attempts are spaced by the retry delay, and
// evaluation never waits on a client that cannot evaluate.
import { createConnection, type Socket as NetSocket } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { precomputedBackboneRef } from '@fedtl/model';
import {
  PROTOCOL_VERSION,
  decodeJoinReply,
  decodeRoundPlan,
  emitWithAck,
  encodeAck,
  encodeError,
  encodeJoin,
  encodeUpdate,
  type JoinReply,
} from '@fedtl/protocol';
import { logEvents, useTestSandbox, waitUntil, writeSyntheticFeatureFiles } from '@fedtl/util/testing';
import type { RoundRecord } from './metrics-log';
import { FEATURE_DIM, startClientProcess, startCoordinatorProcess } from './testing/federation-harness';

const backbone = precomputedBackboneRef(FEATURE_DIM);

interface ScriptedClient {
  socket: Socket;
  join(): Promise<JoinReply>;
  /** Events the coordinator sent this client, in order. */
  received: string[];
}

/**
 * A client that speaks the protocol by hand: it refuses every round plan (Ack ok:false) or answers it with a
 * zero update, and on an evaluation request either accepts and reports `evaluate-failed` or never reports.
 */
function scriptedClient(url: string, clientId: string, script: { plans: 'refuse' | 'zero-update'; evaluation: 'fail' | 'never-report'; testExamples: number }): ScriptedClient {
  const socket = io(url, { transports: ['websocket'], reconnection: false, forceNew: true });
  const received: string[] = [];
  socket.on('round-plan', (payload: Uint8Array, ack: (reply: Uint8Array) => void) => {
    received.push('round-plan');
    if (script.plans === 'refuse') {
      ack(encodeAck({ ok: false, error: { code: 'FEDTL_ERR_INTERNAL', message: 'this test client refuses every round' } }));
      return;
    }
    ack(encodeAck({ ok: true }));
    const plan = decodeRoundPlan(payload);
    const delta = plan.weights.map((t) => ({ ...t, data: new Float32Array(t.data.length) }));
    void emitWithAck(socket as never, 'update', encodeUpdate({ runId: plan.runId, round: plan.round, clientId, delta, numExamples: 10, metrics: {} }), 10_000);
  });
  socket.on('evaluate-request', (_payload: Uint8Array, ack: (reply: Uint8Array) => void) => {
    received.push('evaluate-request');
    ack(encodeAck({ ok: true }));
    if (script.evaluation === 'fail') {
      void emitWithAck(socket as never, 'evaluate-failed', encodeError({ code: 'FEDTL_ERR_INTERNAL', message: 'the test client cannot evaluate' }), 10_000);
    }
  });
  socket.on('run-end', (_payload: Uint8Array, ack: (reply: Uint8Array) => void) => {
    received.push('run-end');
    ack(encodeAck({ ok: true }));
  });
  const join = async () =>
    decodeJoinReply(
      await emitWithAck(
        socket as never,
        'join',
        encodeJoin({ clientId, token: '', protocolVersion: PROTOCOL_VERSION, backbone, labels: ['a', 'b'], numTrainExamples: 40, numTestExamples: script.testExamples }),
        10_000,
      ),
    );
  return { socket, join, received };
}

async function readRecords(outDir: string): Promise<RoundRecord[]> {
  return (await readFile(join(outDir, 'metrics.jsonl'), 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

describe('every run ends with a verdict', () => {
  const sandbox = useTestSandbox();

  function connect(url: string, clientId: string, script: Parameters<typeof scriptedClient>[2]): ScriptedClient {
    const client = scriptedClient(url, clientId, script);
    sandbox.defer(() => client.socket.disconnect());
    return client;
  }

  it('a finished run tells every client so, and every client exits 0', async () => {
    const outDir = join(sandbox.dir, 'out');
    const files = await writeSyntheticFeatureFiles(sandbox.dir, { clients: 2, dim: FEATURE_DIM, trainPerClient: 30, testPerClient: 10, seed: 4 });
    const { process: coordinator, url } = await startCoordinatorProcess(outDir, ['--rounds', '2', '--min-clients', '2', '--log-level', 'info']);
    sandbox.processes.push(coordinator);
    const clients = files.map((file, i) => startClientProcess(url, `client-${i + 1}`, file, ['--log-level', 'info']));
    sandbox.processes.push(...clients);
    const { runId } = JSON.parse(await readFile(join(outDir, 'ready.json'), 'utf8'));

    expect(await coordinator.exited).toBe(0);
    expect(await Promise.all(clients.map((c) => c.exited))).toEqual([0, 0]);
    // The logs as data: every coordinator line from 'listening' on names the run, lines about a round its
    // number, lines about a client its id; each client's lines carry its id, and the run's once welcomed.
    const coordinatorEvents = logEvents(coordinator.output());
    const fromListening = coordinatorEvents.slice(coordinatorEvents.findIndex((event) => event.msg === 'listening'));
    expect(fromListening.length).toBeGreaterThan(5);
    expect(fromListening.filter((event) => event.runId !== runId)).toEqual([]);
    expect(coordinatorEvents.filter((event) => event.msg === 'round aggregated').map((event) => event.round)).toEqual([1, 2]);
    expect(coordinatorEvents.filter((event) => event.msg === 'client joined').map((event) => event.clientId).sort()).toEqual(['client-1', 'client-2']);
    for (const [i, client] of clients.entries()) {
      const events = logEvents(client.output());
      expect(events.filter((event) => event.clientId !== `client-${i + 1}`)).toEqual([]);
      expect(events.filter((event) => event.msg === 'update accepted').map((event) => event.round)).toEqual([1, 2]);
      expect(events.filter((event) => event.msg === 'the run finished')).toEqual([expect.objectContaining({ runId, rounds: 2 })]);
    }
  }, 120_000);

  it('a failed run (a frozen client, quorum never met) tells the healthy client why; it exits 1 and so does the coordinator', async () => {
    const outDir = join(sandbox.dir, 'out');
    const files = await writeSyntheticFeatureFiles(sandbox.dir, { clients: 2, dim: FEATURE_DIM, trainPerClient: 30, testPerClient: 10, seed: 6 });
    const { process: coordinator, url } = await startCoordinatorProcess(outDir, [
      // The run-fails-clients-hang case: after two silent rounds the frozen client is put out of the run, and the
      // third attempt finds too few clients; waiting for them has the round's deadline, so the run still ends.
      '--rounds', '2', '--min-clients', '2', '--round-timeout-ms', '3000', '--round-retry-delay-ms', '200', '--log-level', 'info',
    ]);
    sandbox.processes.push(coordinator);
    const frozen = startClientProcess(url, 'client-2', files[1]);
    sandbox.processes.push(frozen);
    // Thawed before the sandbox kills it, so nothing stays stopped whatever the test's outcome.
    sandbox.defer(() => frozen.child.kill('SIGCONT'));
    await waitUntil(() => logEvents(coordinator.output()).some((event) => event.msg === 'client joined' && event.clientId === 'client-2'), 60_000, 'client-2 to join');
    frozen.child.kill('SIGSTOP');
    const healthy = startClientProcess(url, 'client-1', files[0]);
    sandbox.processes.push(healthy);

    expect(await healthy.exited).toBe(1);
    expect(healthy.output()).toMatch(/fedtl client: the run failed after 0 completed rounds: FEDTL_ERR_QUORUM_NOT_MET: round 1 found only 1 of the 2 clients it needs connected/);
    expect(await coordinator.exited).toBe(1);
    expect(coordinator.output()).toMatch(/fedtl coordinator: FEDTL_ERR_QUORUM_NOT_MET/);
  }, 180_000);

  it('spaces the attempts at a round by the retry delay, doubling, when a client refuses every plan', async () => {
    const outDir = join(sandbox.dir, 'out');
    const { process: coordinator, url } = await startCoordinatorProcess(outDir, [
      '--rounds', '1', '--min-clients', '1', '--max-round-attempts', '3', '--round-retry-delay-ms', '700',
    ]);
    sandbox.processes.push(coordinator);
    const refuser = connect(url, 'refuser', { plans: 'refuse', evaluation: 'fail', testExamples: 10 });
    expect((await refuser.join()).ok).toBe(true);

    expect(await coordinator.exited).toBe(1);
    const attempts = (await readRecords(outDir)).map((r) => [r.attempt, r.status, Date.parse(r.finishedAt)] as const);
    expect(attempts.map(([attempt, status]) => [attempt, status])).toEqual([[1, 'failed'], [2, 'failed'], [3, 'failed']]);
    // Lower bounds only: the pause before attempt 2 is the delay, before attempt 3 twice the delay.
    expect(attempts[1][2] - attempts[0][2]).toBeGreaterThanOrEqual(700);
    expect(attempts[2][2] - attempts[1][2]).toBeGreaterThanOrEqual(1400);
    expect(refuser.received.filter((e) => e === 'round-plan')).toHaveLength(3);
    expect(refuser.received[refuser.received.length - 1]).toBe('run-end');
  }, 120_000);

  it('never asks a client without test examples to evaluate, and stops waiting for one whose evaluation failed', async () => {
    const outDir = join(sandbox.dir, 'out');
    // An evaluation deadline far beyond the test's own timeout: the run can only finish if nobody waits it out.
    const { process: coordinator, url } = await startCoordinatorProcess(outDir, [
      '--rounds', '2', '--min-clients', '2', '--eval-timeout-ms', '3600000', '--round-timeout-ms', '60000', '--log-level', 'info',
    ]);
    sandbox.processes.push(coordinator);
    const empty = connect(url, 'no-test-split', { plans: 'zero-update', evaluation: 'never-report', testExamples: 0 });
    const failing = connect(url, 'failing-eval', { plans: 'zero-update', evaluation: 'fail', testExamples: 10 });
    expect((await empty.join()).ok).toBe(true);
    expect((await failing.join()).ok).toBe(true);

    expect(await coordinator.exited).toBe(0);
    expect(empty.received).not.toContain('evaluate-request');
    expect(failing.received.filter((e) => e === 'evaluate-request')).toHaveLength(2);
    expect(logEvents(coordinator.output()).filter((event) => event.msg.startsWith('client has no test examples'))).toEqual([expect.objectContaining({ clientId: 'no-test-split' })]);
    expect((await readRecords(outDir)).map((r) => [r.round, r.status])).toEqual([[1, 'aggregated'], [2, 'aggregated']]);
  }, 120_000);

  it.each([
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const)('a coordinator stopped by %s exits %i, sends no verdict and does not say the run finished', async (signal, code) => {
    const outDir = join(sandbox.dir, 'out');
    const { process: coordinator, url } = await startCoordinatorProcess(outDir, ['--rounds', '1', '--min-clients', '2', '--log-level', 'info']);
    sandbox.processes.push(coordinator);
    const waiting = connect(url, 'waiting', { plans: 'zero-update', evaluation: 'fail', testExamples: 10 });
    expect((await waiting.join()).ok).toBe(true);

    coordinator.child.kill(signal);
    expect(await coordinator.exited).toBe(code);
    const said = logEvents(coordinator.output()).map((event) => event.msg);
    expect(said).toContain('listening');
    expect(said.filter((msg) => /run finished/.test(msg))).toEqual([]);
    expect(waiting.received).not.toContain('run-end');
  }, 60_000);

  it('a failed run exits 1 with its cause even while a peer holds a half-closed connection open', async () => {
    const outDir = join(sandbox.dir, 'out');
    const { process: coordinator, url } = await startCoordinatorProcess(outDir, [
      '--rounds', '1', '--min-clients', '1', '--max-round-attempts', '1',
    ]);
    sandbox.processes.push(coordinator);
    const { port } = new URL(url);
    // One peer half-closes at once, another sends half a request and then nothing: neither ever ends.
    const peers: NetSocket[] = [createConnection({ host: '127.0.0.1', port: Number(port), allowHalfOpen: true }), createConnection({ host: '127.0.0.1', port: Number(port) })];
    peers.forEach((peer) => peer.on('error', () => undefined));
    sandbox.defer(() => peers.forEach((peer) => peer.destroy()));
    await Promise.all(peers.map((peer) => new Promise((resolve) => peer.once('connect', resolve))));
    peers[0].end();
    peers[1].write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    const refuser = connect(url, 'refuser', { plans: 'refuse', evaluation: 'fail', testExamples: 10 });
    expect((await refuser.join()).ok).toBe(true);

    expect(await coordinator.exited).toBe(1);
    expect(coordinator.output()).toMatch(/fedtl coordinator: FEDTL_ERR_QUORUM_NOT_MET: round 1 missed its quorum of 1 updates on attempt 1 of 1/);
  }, 60_000);
});
