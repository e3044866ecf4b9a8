// Misbehaving clients over real sockets: each bad update is refused with its catalogue code, while a good
// federation (two real client processes) runs beside them and its result is exactly FedAvg of the good updates.
// Refused joins are membership.spec.ts's.
import { join } from 'node:path';
import { initialWeights } from '@fedtl/model';
import { encodeUpdate, type NamedTensor, type RoundPlan } from '@fedtl/protocol';
import { encodeHostileSparseUpdate } from '@fedtl/protocol/testing';
import { configureLogging } from '@fedtl/util';
import { useTestSandbox, writeSyntheticFeatureFiles } from '@fedtl/util/testing';
import { FEATURE_DIM, maxAbsDifference, readAuditedUpdates, readCheckpointWeights, referenceFedAvg, startClientProcess, startScriptedFederation, HARNESS_SPEC } from './testing/federation-harness';

type Tamper = (plan: RoundPlan, clientId: string) => Uint8Array;

const zeroDelta = (plan: RoundPlan): NamedTensor[] => plan.weights.map((t) => ({ ...t, data: new Float32Array(t.data.length) }));
const update = (plan: RoundPlan, clientId: string, delta: NamedTensor[], round = plan.round, numExamples = 10) =>
  encodeUpdate({ runId: plan.runId, round, clientId, delta, numExamples, metrics: {} });
const sparseInflated = (plan: RoundPlan, clientId: string, fault: 'inflated-shapes' | 'inflated-unknown-name') => {
  const payload = encodeHostileSparseUpdate({ runId: plan.runId, round: plan.round, clientId, delta: zeroDelta(plan), numExamples: 10, metrics: {} }, fault);
  expect(payload.byteLength).toBeLessThan(1024);
  return payload;
};
const replaceFirst = (plan: RoundPlan, change: (t: NamedTensor) => NamedTensor, index = 0) =>
  zeroDelta(plan).map((t, i) => (i === index ? change(t) : t));

const ROGUES: Record<string, { tamper: Tamper; code: string }> = {
  'rogue-round': { tamper: (p, id) => update(p, id, zeroDelta(p), p.round + 1), code: 'FEDTL_ERR_WRONG_ROUND' },
  'rogue-name': { tamper: (p, id) => update(p, id, replaceFirst(p, (t) => ({ ...t, name: 'backbone/secret' }))), code: 'FEDTL_ERR_BAD_TENSOR_NAME' },
  'rogue-shape': { tamper: (p, id) => update(p, id, replaceFirst(p, (t) => ({ ...t, shape: [t.data.length] }))), code: 'FEDTL_ERR_BAD_TENSOR_SHAPE' },
  'rogue-dtype': {
    tamper: (p, id) => update(p, id, replaceFirst(p, (t) => ({ ...t, dtype: 'int32', data: new Int32Array(t.data.length) }))),
    code: 'FEDTL_ERR_BAD_TENSOR_DTYPE',
  },
  'rogue-nan': { tamper: (p, id) => update(p, id, replaceFirst(p, (t) => ({ ...t, data: new Float32Array(t.data.length).fill(NaN) }), 1)), code: 'FEDTL_ERR_NON_FINITE' },
  'rogue-inf': { tamper: (p, id) => update(p, id, replaceFirst(p, (t) => ({ ...t, data: new Float32Array(t.data.length).fill(Infinity) }))), code: 'FEDTL_ERR_NON_FINITE' },
  'rogue-garbage': { tamper: () => Uint8Array.from([0xff, 0x13, 0x37, 0x00, 0x99, 0x42, 0x08]), code: 'FEDTL_ERR_MALFORMED_MESSAGE' },
  'rogue-examples': { tamper: (p, id) => update(p, id, zeroDelta(p), p.round, 1_000_000), code: 'FEDTL_ERR_BAD_EXAMPLE_COUNT' },
  // A few bytes whose sparse tensors each claim 2^24 values: refused from the headers, before anything is expanded
  // (a coordinator that expanded first would spend 64 MiB on the first tensor and refuse the second as over budget).
  'rogue-sparse-shape': { tamper: (p, id) => sparseInflated(p, id, 'inflated-shapes'), code: 'FEDTL_ERR_BAD_TENSOR_SHAPE' },
  'rogue-sparse-name': { tamper: (p, id) => sparseInflated(p, id, 'inflated-unknown-name'), code: 'FEDTL_ERR_BAD_TENSOR_NAME' },
};

describe('hostile clients', () => {
  const sandbox = useTestSandbox();

  beforeAll(() => {
    configureLogging({ level: 'error' });
  });

  const start = (extra: string[]) => startScriptedFederation(sandbox, extra);

  it('refuses every bad update with its code, and the good federation’s result is unaffected', async () => {
    const rogueIds = Object.keys(ROGUES);
    const { started, client } = await start(['--rounds', '2', '--round-timeout-ms', '60000', '--min-clients', '2', '--min-available', String(3 + rogueIds.length)]);
    const refusals: Record<string, string[]> = {};
    for (const clientId of rogueIds) {
      const rogue = client(clientId);
      refusals[clientId] = [];
      rogue.onPlan(async (plan) => {
        refusals[clientId].push(await rogue.sendRawUpdate(ROGUES[clientId].tamper(plan, clientId)));
      });
      expect((await rogue.join()).ok).toBe(true);
    }
    // "echo" is honest but repeats itself: a late update for the previous round, then its real update, then
    // the same update again. Only the real one may count, once.
    const echoAnswers: string[] = [];
    const echo = client('echo');
    echo.onPlan(async (plan) => {
      const send = async (bytes: Uint8Array) => echoAnswers.push(`r${plan.round}:${await echo.sendRawUpdate(bytes)}`);
      if (plan.round > 1) await send(update(plan, 'echo', zeroDelta(plan), plan.round - 1));
      const real = update(plan, 'echo', zeroDelta(plan));
      await send(real);
      await send(real);
    });
    expect((await echo.join()).ok).toBe(true);

    const files = await writeSyntheticFeatureFiles(sandbox.dir, { clients: 2, dim: FEATURE_DIM, trainPerClient: 40, testPerClient: 20, seed: 9 });
    sandbox.processes.push(startClientProcess(started.url, 'good-1', files[0]), startClientProcess(started.url, 'good-2', files[1]));

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

    const outDir = join(sandbox.dir, 'out');
    let previous = initialWeights(HARNESS_SPEC, 5);
    for (const round of [1, 2]) {
      const updates = await readAuditedUpdates(outDir, round);
      expect(updates.map((u) => u.clientId)).toEqual(['echo', 'good-1', 'good-2']);
      const actual = await readCheckpointWeights(outDir, round);
      expect(maxAbsDifference(actual, referenceFedAvg(previous, updates))).toBeLessThan(1e-6);
      previous = actual;
    }
  }, 120_000);
});
