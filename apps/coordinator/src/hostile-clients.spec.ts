// Misbehaving clients over real sockets: each bad input is refused with its catalogue code, while a good
// federation (two real client processes) runs beside them and its result is exactly FedAvg of the good updates.
import { join as joinPath } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { io, type Socket } from 'socket.io-client';
import { initialWeights, precomputedBackboneRef, selectBackend } from '@fedtl/model';
import {
  PROTOCOL_VERSION,
  decodeAck,
  decodeJoinReply,
  decodeRoundPlan,
  emitWithAck,
  encodeAck,
  encodeJoin,
  encodeUpdate,
  type JoinReply,
  type NamedTensor,
  type RoundPlan,
} from '@fedtl/protocol';
import { configureLogging } from '@fedtl/util';
import { makeTempDir, writeSyntheticFeatureFiles, type TsProcess } from '@fedtl/util/testing';
import { parseCoordinatorConfig, type CoordinatorConfig } from './config';
import { startCoordinator, type StartedCoordinator } from './run-coordinator';
import { FEATURE_DIM, maxAbsDifference, readAuditedUpdates, readCheckpointWeights, referenceFedAvg, startClientProcess } from './testing/federation-harness';

type Tamper = (plan: RoundPlan, clientId: string) => Uint8Array;

const goodDelta = (plan: RoundPlan): NamedTensor[] => plan.weights.map((t) => ({ ...t, data: new Float32Array(t.data.length) }));
const update = (plan: RoundPlan, clientId: string, delta: NamedTensor[], round = plan.round) =>
  encodeUpdate({ runId: plan.runId, round, clientId, delta, numExamples: 10, metrics: {} });

const ROGUES: Record<string, { tamper: Tamper; code: string }> = {
  'rogue-round': { tamper: (p, id) => update(p, id, goodDelta(p), p.round + 1), code: 'FEDTL_ERR_WRONG_ROUND' },
  'rogue-name': {
    tamper: (p, id) => update(p, id, goodDelta(p).map((t, i) => (i === 0 ? { ...t, name: 'backbone/secret' } : t))),
    code: 'FEDTL_ERR_BAD_TENSOR_NAME',
  },
  'rogue-shape': {
    tamper: (p, id) => update(p, id, goodDelta(p).map((t, i) => (i === 0 ? { ...t, shape: [t.data.length] } : t))),
    code: 'FEDTL_ERR_BAD_TENSOR_SHAPE',
  },
  'rogue-dtype': {
    tamper: (p, id) => update(p, id, goodDelta(p).map((t, i) => (i === 0 ? { ...t, dtype: 'int32' as const, data: new Int32Array(t.data.length) } : t))),
    code: 'FEDTL_ERR_BAD_TENSOR_DTYPE',
  },
  'rogue-nan': {
    tamper: (p, id) => update(p, id, goodDelta(p).map((t, i) => (i === 1 ? { ...t, data: new Float32Array(t.data.length).fill(Number.NaN) } : t))),
    code: 'FEDTL_ERR_NON_FINITE',
  },
  'rogue-inf': {
    tamper: (p, id) => update(p, id, goodDelta(p).map((t, i) => (i === 0 ? { ...t, data: new Float32Array(t.data.length).fill(Infinity) } : t))),
    code: 'FEDTL_ERR_NON_FINITE',
  },
  'rogue-garbage': { tamper: () => Uint8Array.from([0xff, 0x13, 0x37, 0x00, 0x99, 0x42, 0x08]), code: 'FEDTL_ERR_MALFORMED_MESSAGE' },
  'rogue-examples': {
    tamper: (p, id) => encodeUpdate({ runId: p.runId, round: p.round, clientId: id, delta: goodDelta(p), numExamples: 1_000_000, metrics: {} }),
    code: 'FEDTL_ERR_BAD_EXAMPLE_COUNT',
  },
};

const backbone = precomputedBackboneRef(FEATURE_DIM);

function connect(url: string): Socket {
  return io(url, { transports: ['websocket'], reconnection: false, forceNew: true });
}

async function join(socket: Socket, clientId: string, overrides: Partial<Parameters<typeof encodeJoin>[0]> = {}): Promise<JoinReply> {
  const payload = encodeJoin({
    clientId,
    token: '',
    protocolVersion: PROTOCOL_VERSION,
    backbone,
    labels: ['a', 'b'],
    numTrainExamples: 40,
    numTestExamples: 10,
    ...overrides,
  });
  return decodeJoinReply(await emitWithAck(socket as never, 'join', payload, 10_000));
}

describe('hostile clients', () => {
  let temp: { dir: string; cleanup: () => Promise<void> };
  let started: StartedCoordinator | undefined;
  const sockets: Socket[] = [];
  const processes: TsProcess[] = [];

  beforeAll(async () => {
    configureLogging({ level: 'error' });
    await selectBackend('cpu');
  });

  beforeEach(async () => {
    temp = await makeTempDir();
  });

  afterEach(async () => {
    sockets.splice(0).forEach((s) => s.disconnect());
    await Promise.all(processes.splice(0).map((p) => p.stop('SIGKILL')));
    await started?.stop();
    started = undefined;
    await temp.cleanup();
  });

  function config(extra: string[]): CoordinatorConfig {
    const parsed = parseCoordinatorConfig([
      '--port', '0', '--out-dir', joinPath(temp.dir, 'out'), '--audit-dir', joinPath(temp.dir, 'out', 'audit'),
      '--backbone', `precomputed:${FEATURE_DIM}`, '--labels', 'a,b', '--adapter-width', '4', '--local-epochs', '2',
      '--batch-size', '16', '--learning-rate', '0.05', '--log-level', 'silent', '--seed', '5', ...extra,
    ]);
    if (parsed === 'help') throw new Error('unexpected help');
    return parsed;
  }

  it('refuses every bad update with its code, and the good federation’s result is unaffected', async () => {
    const rogueIds = Object.keys(ROGUES);
    started = await startCoordinator(config(['--rounds', '2', '--round-timeout-ms', '60000', '--min-clients', '2', '--min-available', String(3 + rogueIds.length)]));
    const tensorsBefore = tf.memory().numTensors;
    const refusals: Record<string, string[]> = {};
    for (const clientId of rogueIds) {
      const socket = connect(started.url);
      sockets.push(socket);
      refusals[clientId] = [];
      socket.on('round-plan', async (payload: Uint8Array, ack: (reply: Uint8Array) => void) => {
        ack(encodeAck({ ok: true }));
        const plan = decodeRoundPlan(payload);
        const reply = decodeAck(await emitWithAck(socket as never, 'update', ROGUES[clientId].tamper(plan, clientId), 10_000));
        refusals[clientId].push(reply.ok ? 'accepted' : (reply.error?.code ?? 'no code'));
      });
      // Rogues decline to evaluate, so the coordinator does not wait for their reports.
      socket.on('evaluate-request', (_payload: Uint8Array, ack: (reply: Uint8Array) => void) =>
        ack(encodeAck({ ok: false, error: { code: 'FEDTL_ERR_INTERNAL', message: 'rogues do not evaluate' } })),
      );
      expect((await join(socket, clientId)).ok).toBe(true);
    }
    // "echo" is honest but repeats itself: a late update for the previous round, then its real update, then
    // the same update again. Only the real one may count, once.
    const echoAnswers: string[] = [];
    const echo = connect(started.url);
    sockets.push(echo);
    echo.on('round-plan', async (payload: Uint8Array, ack: (reply: Uint8Array) => void) => {
      ack(encodeAck({ ok: true }));
      const plan = decodeRoundPlan(payload);
      const send = async (bytes: Uint8Array) => {
        const reply = decodeAck(await emitWithAck(echo as never, 'update', bytes, 10_000));
        echoAnswers.push(`r${plan.round}:${reply.ok ? 'accepted' : reply.error?.code}`);
      };
      if (plan.round > 1) await send(update(plan, 'echo', goodDelta(plan), plan.round - 1));
      const real = update(plan, 'echo', goodDelta(plan));
      await send(real);
      await send(real);
    });
    echo.on('evaluate-request', (_payload: Uint8Array, ack: (reply: Uint8Array) => void) =>
      ack(encodeAck({ ok: false, error: { code: 'FEDTL_ERR_INTERNAL', message: 'echo does not evaluate' } })),
    );
    expect((await join(echo, 'echo')).ok).toBe(true);

    const files = await writeSyntheticFeatureFiles(temp.dir, { clients: 2, dim: FEATURE_DIM, trainPerClient: 40, testPerClient: 20, seed: 9 });
    processes.push(startClientProcess(started.url, 'good-1', files[0]), startClientProcess(started.url, 'good-2', files[1]));

    const summary = await started.finished;
    expect(summary.roundsCompleted).toBe(2);
    for (const clientId of rogueIds) expect([clientId, refusals[clientId]]).toEqual([clientId, [ROGUES[clientId].code, ROGUES[clientId].code]]);
    expect(echoAnswers).toEqual([
      'r1:accepted',
      'r1:FEDTL_ERR_DUPLICATE_UPDATE',
      'r2:FEDTL_ERR_WRONG_ROUND',
      'r2:accepted',
      'r2:FEDTL_ERR_DUPLICATE_UPDATE',
    ]);

    const outDir = joinPath(temp.dir, 'out');
    let previous = initialWeights({ inputDim: FEATURE_DIM, adapterWidth: 4, head: 'linear', headHidden: 64, labels: ['a', 'b'] }, 5);
    for (const round of [1, 2]) {
      const updates = await readAuditedUpdates(outDir, round);
      expect(updates.map((u) => u.clientId)).toEqual(['echo', 'good-1', 'good-2']);
      const actual = await readCheckpointWeights(outDir, round);
      expect(maxAbsDifference(actual, referenceFedAvg(previous, updates))).toBeLessThan(1e-6);
      previous = actual;
    }
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  }, 120_000);

  it('refuses joins with another backbone, unknown labels, another protocol version or a bad token', async () => {
    started = await startCoordinator(config(['--rounds', '1', '--token', 'sesame']));
    const socket = connect(started.url);
    sockets.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect_error', (err: Error & { data?: { code?: string } }) => {
        try {
          expect(err.data?.code).toBe('FEDTL_ERR_UNAUTHORIZED');
          resolve();
        } catch (e) {
          reject(e);
        }
      });
    });
    const authed = io(started.url, { transports: ['websocket'], reconnection: false, forceNew: true, auth: { token: 'sesame' } });
    sockets.push(authed);
    const expectRefusal = async (overrides: Parameters<typeof join>[2], code: string) => {
      const reply = await join(authed, 'newcomer', { token: 'sesame', ...overrides });
      expect(reply.ok ? 'welcomed' : reply.error.code).toBe(code);
    };
    await expectRefusal({ backbone: { ...backbone, contentHash: 'f'.repeat(64) } }, 'FEDTL_ERR_BACKBONE_MISMATCH');
    await expectRefusal({ labels: ['a', 'phishing'] }, 'FEDTL_ERR_UNKNOWN_LABEL');
    await expectRefusal({ protocolVersion: PROTOCOL_VERSION + 1 }, 'FEDTL_ERR_PROTOCOL_VERSION');
    await expectRefusal({ token: 'wrong' }, 'FEDTL_ERR_UNAUTHORIZED');
    const garbage = decodeJoinReply(await emitWithAck(authed as never, 'join', Uint8Array.from([1, 2, 3, 4, 5]), 10_000));
    expect(garbage.ok ? 'welcomed' : garbage.error.code).toBe('FEDTL_ERR_MALFORMED_MESSAGE');
    const early = decodeAck(await emitWithAck(authed as never, 'update', Uint8Array.from([1]), 10_000));
    expect(early.error?.code).toBe('FEDTL_ERR_NOT_JOINED');
    expect((await join(authed, 'newcomer', { token: 'sesame' })).ok).toBe(true);
  });
});
