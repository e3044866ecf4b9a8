// Robust aggregation through the real coordinator: four scripted clients over real sockets, one of them sending
// −10 × the honest direction. Under --strategy median and --strategy krum the round's checkpoint is the robust
// aggregate of the three honest updates, while under --strategy fedavg the same four updates move the model the
// other way; the round's record says how many updates Krum excluded.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { initialWeights } from '@fedtl/model';
import type { EvaluateRequest, EvaluateReport, NamedTensor } from '@fedtl/protocol';
import { configureLogging } from '@fedtl/util';
import { useTestSandbox } from '@fedtl/util/testing';
import type { RoundRecord } from './metrics-log';
import { HARNESS_SPEC, readCheckpointWeights, startScriptedFederation } from './testing/federation-harness';

const fill = (like: NamedTensor[], value: number): NamedTensor[] => like.map((t) => ({ ...t, data: new Float32Array(t.data.length).fill(value) }));

/** Every element of `actual − initial` (the round's applied delta), as one list. */
function appliedDelta(actual: NamedTensor[], initial: NamedTensor[]): number[] {
  return actual.flatMap((tensor) => {
    const before = initial.find((t) => t.name === tensor.name);
    if (!before) throw new Error(`no initial ${tensor.name}`);
    return Array.from(tensor.data, (value, i) => value - before.data[i]);
  });
}

describe('robust strategies through the coordinator', () => {
  const sandbox = useTestSandbox();

  beforeAll(() => {
    configureLogging({ level: 'error' });
  });

  // Honest clients send every element 0.010, 0.012 and 0.014 (mean 0.012); the attacker −10 × 0.012 = −0.12.
  // FedAvg (equal example counts): (0.036 − 0.12) / 4 = −0.021. Median: (0.010 + 0.012) / 2 = 0.011.
  // Krum with f = 0 scores each update by its 2 nearest others: 0.012 is closest to both other honest updates.
  // The same round under FedAvg is the control: the checkpoint moves every weight by −0.021.
  it.each([
    ['median', ['--strategy', 'median'], 0.011, 0],
    ['krum', ['--strategy', 'krum', '--byzantine-clients', '0'], 0.012, 3],
    ['fedavg', ['--strategy', 'fedavg'], -0.021, 0],
  ])('--strategy %s: the checkpoint moves every weight by the expected aggregate of the four updates', async (name, flags, expected, excluded) => {
    const { started, client } = await startScriptedFederation(sandbox, [
      ...flags, '--rounds', '1', '--min-clients', '4', '--min-available', '4', '--round-timeout-ms', '60000', '--eval-timeout-ms', '60000',
    ]);
    const answers: string[] = [];
    const senders: Array<[string, number]> = [['honest-1', 0.01], ['honest-2', 0.012], ['honest-3', 0.014], ['attacker', -10 * 0.012]];
    for (const [clientId, value] of senders) {
      const c = client(clientId);
      c.onPlan(async (plan) => void answers.push(await c.sendUpdate(plan, fill(plan.weights, value), 40)));
      const report = (request: EvaluateRequest): EvaluateReport => ({
        runId: request.runId, round: request.round, clientId, numExamples: 20, metrics: { accuracy: 0.5, loss: 0.7 },
        perLabel: { a: { support: 10, correct: 5 }, b: { support: 10, correct: 5 } },
      });
      c.onEvaluateRequest(async (request) => void (await c.sendEvaluateReport(report(request))));
      expect((await c.join({ numTrainExamples: 40, numTestExamples: 20 })).ok).toBe(true);
    }

    const summary = await started.finished;
    expect(summary.roundsCompleted).toBe(1);
    expect(answers).toEqual(['accepted', 'accepted', 'accepted', 'accepted']);
    const outDir = join(sandbox.dir, 'out');
    const initial = initialWeights(HARNESS_SPEC, 5);
    const applied = appliedDelta(await readCheckpointWeights(outDir, 1), initial);
    expect(applied.length).toBeGreaterThan(0);
    for (const value of applied) expect(value).toBeCloseTo(expected, 6);
    // Robust: within 0.0011 of the honest mean 0.012; FedAvg: the wrong way, 0.033 from it.
    const distance = Math.max(...applied.map((v) => Math.abs(v - 0.012)));
    if (name === 'fedavg') expect(distance).toBeGreaterThan(0.03);
    else expect(distance).toBeLessThan(0.0011);

    const records: RoundRecord[] = (await readFile(join(outDir, 'metrics.jsonl'), 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const record = records.find((r) => r.round === 1 && r.status === 'aggregated');
    expect(record?.accepted.slice().sort()).toEqual(['attacker', 'honest-1', 'honest-2', 'honest-3']);
    expect(record?.train).toMatchObject({ numClients: 4, numExamples: 160 });
    expect(record?.train['robust/excluded'] ?? 0).toBe(excluded);
  }, 120_000);
});
