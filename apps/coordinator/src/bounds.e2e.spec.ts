// Bounds before trust, over real sockets: scripted clients send huge deltas, claim a huge share and report
// impossible evaluations beside two real honest client processes. The run completes, every checkpoint is finite,
// and each round's result equals FedAvg of exactly what the bounds let through. Then divergence end to end: a
// learning rate of 1e30 stops the run with FEDTL_ERR_DIVERGED and no checkpoint.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { firstNonFinite, initialWeights } from '@fedtl/model';
import type { EvaluateReport, NamedTensor, RoundPlan, Update } from '@fedtl/protocol';
import { configureLogging } from '@fedtl/util';
import { useTestSandbox, writeSyntheticFeatureFiles } from '@fedtl/util/testing';
import type { RoundRecord } from './metrics-log';
import { FEATURE_DIM, maxAbsDifference, readAuditedUpdates, readCheckpointWeights, referenceFedAvg, startClientProcess, startScriptedFederation, HARNESS_SPEC } from './testing/federation-harness';

const fill = (like: NamedTensor[], value: number): NamedTensor[] => like.map((t) => ({ ...t, data: new Float32Array(t.data.length).fill(value) }));
const filled = (plan: RoundPlan, value: number) => fill(plan.weights, value);
/** What a clipped delta must be, computed here independently: each value times bound / norm, in float32. */
const clip = (delta: NamedTensor[], bound: number) => {
  const norm = Math.sqrt(delta.reduce((sum, t) => sum + Array.from(t.data).reduce((s, v) => s + v * v, 0), 0));
  return { factor: bound / norm, delta: delta.map((t) => ({ ...t, data: Float32Array.from(t.data, (v) => v * (bound / norm)) })) };
};

describe('bounds before trust', () => {
  const sandbox = useTestSandbox();

  beforeAll(() => {
    configureLogging({ level: 'error' });
  });

  // Evaluation deadline longer than the test may take: a refused or undecodable report must end its sender's
  // evaluation at once.
  const start = (args: string[]) => startScriptedFederation(sandbox, ['--round-timeout-ms', '60000', '--eval-timeout-ms', '3600000', ...args]);

  it('clips huge deltas, caps a greedy share, refuses impossible reports, and the run is FedAvg of what got through', async () => {
    const { started, client } = await start(['--rounds', '2', '--min-clients', '2', '--min-available', '6']);
    const answers: Record<string, string[]> = { huge: [], greedy: [], liar: [], labeller: [] };
    const sent: Record<number, NamedTensor[]> = {};

    // "huge" declares 1 example and sends a delta of 1e30, then 3e38 (near float32's largest), everywhere.
    const huge = client('huge');
    huge.onPlan(async (plan) => {
      sent[plan.round] = filled(plan, plan.round === 1 ? 1e30 : 3e38);
      answers.huge.push(await huge.sendUpdate(plan, sent[plan.round], 1));
    });
    expect((await huge.join({ numTrainExamples: 1 })).ok).toBe(true);

    // "greedy" first claims 2^32 − 1 examples (refused at join), then the most it may declare.
    const greedy = client('greedy');
    greedy.onPlan(async (plan) => void answers.greedy.push(await greedy.sendUpdate(plan, filled(plan, 0.01), 1_000_000)));
    const refused = await greedy.join({ numTrainExamples: 4294967295 });
    expect(refused.ok ? 'admitted' : refused.error.code).toBe('FEDTL_ERR_BAD_EXAMPLE_COUNT');
    expect((await greedy.join({ numTrainExamples: 1_000_000 })).ok).toBe(true);

    // Two clients that train honestly (zero deltas) and report impossible evaluations, one per round each.
    const report = (request: { runId: string; round: number }, clientId: string, change: Partial<EvaluateReport>): EvaluateReport => ({
      runId: request.runId, round: request.round, clientId, numExamples: 20, metrics: { accuracy: 0.5, loss: 0.7 },
      perLabel: { a: { support: 10, correct: 5 }, b: { support: 10, correct: 5 } }, ...change,
    });
    const manyNames = Object.fromEntries(Array.from({ length: 8000 }, (_, i) => [`metric-${i}`, 0.5]));
    const manyLabels = Object.fromEntries(Array.from({ length: 8000 }, (_, i) => [`label-${i}`, { support: 0, correct: 0 }]));
    const lies: Record<string, Array<Partial<EvaluateReport>>> = {
      liar: [{ metrics: { accuracy: 7.5, macroF1: -3 } }, { numExamples: 1e6, perLabel: { a: { support: 1e6, correct: 0 } } }],
      labeller: [{ metrics: manyNames }, { perLabel: manyLabels }],
    };
    for (const clientId of ['liar', 'labeller']) {
      const c = client(clientId);
      c.onPlan(async (plan) => void answers[clientId].push(await c.sendUpdate(plan, undefined, 40)));
      c.onEvaluateRequest(async (request) => void answers[clientId].push(await c.sendEvaluateReport(report(request, clientId, lies[clientId][request.round - 1]))));
      expect((await c.join({ numTestExamples: 20 })).ok).toBe(true);
    }

    const files = await writeSyntheticFeatureFiles(sandbox.dir, { clients: 2, dim: FEATURE_DIM, trainPerClient: 40, testPerClient: 20, seed: 9 });
    sandbox.processes.push(startClientProcess(started.url, 'good-1', files[0]), startClientProcess(started.url, 'good-2', files[1]));

    const summary = await started.finished;
    expect(summary.roundsCompleted).toBe(2);
    expect(answers).toEqual({
      huge: ['accepted', 'accepted'],
      greedy: ['accepted', 'accepted'],
      liar: ['accepted', 'FEDTL_ERR_BAD_REPORT', 'accepted', 'FEDTL_ERR_BAD_REPORT'],
      // 8,000 names exceed the codec's entry limits (64 metrics, 1024 labels): refused where they are decoded,
      // before any check or store sees them. Unknown names within those limits are report-checks.spec.ts's.
      labeller: ['accepted', 'FEDTL_ERR_MALFORMED_MESSAGE', 'accepted', 'FEDTL_ERR_MALFORMED_MESSAGE'],
    });

    const outDir = join(sandbox.dir, 'out');
    const records: RoundRecord[] = (await readFile(join(outDir, 'metrics.jsonl'), 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l));
    let previous = initialWeights(HARNESS_SPEC, 5);
    for (const round of [1, 2]) {
      const audited = await readAuditedUpdates(outDir, round);
      const byId = new Map(audited.map((u) => [u.clientId, u]));
      expect([...byId.keys()]).toEqual(['good-1', 'good-2', 'greedy', 'huge', 'labeller', 'liar']);
      // Water level for declared [1, 40, 40, 40, 40, 1e6] at share 0.5: L = 0.5 · (161 + L), so L = 161.
      const clipped = clip(sent[round], 100);
      const expected: Update[] = [
        byId.get('good-1') as Update,
        byId.get('good-2') as Update,
        { ...(byId.get('greedy') as Update), delta: fill(previous, 0.01), numExamples: 161 },
        { ...(byId.get('huge') as Update), delta: clipped.delta, numExamples: 1 },
        byId.get('labeller') as Update,
        byId.get('liar') as Update,
      ];
      expect([round, byId.get('good-1')?.numExamples, byId.get('good-2')?.numExamples]).toEqual([round, 40, 40]);
      expect(maxAbsDifference(byId.get('huge')?.delta ?? [], expected[3].delta)).toBe(0);
      const record = records.find((r) => r.round === round && r.status === 'aggregated');
      expect(Object.keys(record?.bounded ?? {})).toEqual(['greedy', 'huge']);
      expect(record?.bounded?.huge.clipFactor).toBe(clipped.factor);
      expect(record?.bounded?.greedy).toMatchObject({ numExamples: 1_000_000, weight: 161 });
      const actual = await readCheckpointWeights(outDir, round);
      expect(firstNonFinite(actual)).toBeUndefined();
      expect(maxAbsDifference(actual, referenceFedAvg(previous, expected))).toBeLessThanOrEqual(1e-6);
      previous = actual;
    }
  }, 180_000);

  it('stops a diverging run (sgd at learning rate 1e30) with FEDTL_ERR_DIVERGED naming the rate, and checkpoints nothing', async () => {
    const { started } = await start(['--rounds', '3', '--min-clients', '2', '--optimizer', 'sgd', '--learning-rate', '1e30']);
    const files = await writeSyntheticFeatureFiles(sandbox.dir, { clients: 2, dim: FEATURE_DIM, trainPerClient: 40, testPerClient: 20, seed: 9 });
    sandbox.processes.push(startClientProcess(started.url, 'org-1', files[0]), startClientProcess(started.url, 'org-2', files[1]));
    const outcome = await started.finished.then(
      () => ({ code: 'finished', message: '' }),
      (err: { code: string; message: string }) => err,
    );
    expect(outcome.code).toBe('FEDTL_ERR_DIVERGED');
    expect(outcome.message).toContain("2 of round 1's 2 selected clients (org-1, org-2) report that local training diverged (optimizer sgd, learning rate 1e+30); lower the learning rate");
    expect(existsSync(join(sandbox.dir, 'out', 'checkpoints', 'round-000001.ckpt'))).toBe(false);
  }, 120_000);
});
