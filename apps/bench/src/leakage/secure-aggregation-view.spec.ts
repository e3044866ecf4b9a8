import { analyticInversion } from './analytic-inversion';
import { TINY_SPEC, row, syntheticExamples, tinyUpdate } from './attack-fixtures';
import { scoreRecovery } from './recovery-metrics';
import { secureRound } from './secure-aggregation-view';

const PLAN = { localEpochs: 1, batchSize: 1, learningRate: 0.01, optimizer: 'sgd' } as const;
const OPTIONS = { runId: 'run-1', round: 1, planBytes: new Uint8Array([1, 2, 3]), clip: 100 };

describe('what the coordinator sees under secure aggregation', () => {
  it('one masked vector: the analytic attack that recovers the plain update is at chance on it', async () => {
    const data = [0, 1, 2].map((i) => syntheticExamples(1, TINY_SPEC.inputDim, 40 + i));
    const updates = await Promise.all(data.map((d) => tinyUpdate(d, PLAN)));
    const view = secureRound(updates.map((u, i) => ({ clientId: `org-${i}`, delta: u.delta, numExamples: 1 })), OPTIONS);
    const others = Array.from({ length: 200 }, (_, i) => row(syntheticExamples(1, TINY_SPEC.inputDim, 100 + i), 0, TINY_SPEC.inputDim));
    const truth = [row(data[0], 0, TINY_SPEC.inputDim)];
    const plain = await analyticInversion.recover(updates[0]);
    expect(scoreRecovery(plain.vectors, truth, others).top1).toBe(1);
    const masked = await analyticInversion.recover({ ...updates[0], delta: view.maskedAsDelta.get('org-0') ?? [] });
    const score = scoreRecovery(masked.vectors, truth, others);
    expect(score.top1).toBe(0);
    expect(Math.abs(score.cosine ?? 1)).toBeLessThan(0.6);
  });

  it('the unmasked aggregate is the clients’ mean delta, to the fixed-point step', async () => {
    const updates = await Promise.all([0, 1, 2].map((i) => tinyUpdate(syntheticExamples(1, TINY_SPEC.inputDim, 50 + i), PLAN)));
    const view = secureRound(updates.map((u, i) => ({ clientId: `org-${i}`, delta: u.delta, numExamples: 1 })), OPTIONS);
    expect(view.totalExamples).toBe(3);
    const step = 2 ** -view.fractionalBits;
    view.meanDelta.forEach((tensor, t) => {
      tensor.data.forEach((value, i) => {
        const mean = updates.reduce((sum, u) => sum + u.delta[t].data[i], 0) / 3;
        expect(Math.abs(value - mean)).toBeLessThanOrEqual(2 * step);
      });
    });
  });

  it('refuses a round of one client', async () => {
    const update = await tinyUpdate(syntheticExamples(1, TINY_SPEC.inputDim, 60), PLAN);
    expect(() => secureRound([{ clientId: 'org-0', delta: update.delta, numExamples: 1 }], OPTIONS)).toThrow(/expected at least two clients with distinct ids, got \[org-0\]/);
  });
});
