// The DP rows of the audit: which rows, the noise calibration glue (q, steps, σ of one round, checked against the
// accountant), and that the observed update really is the DP client's (DP-SGD's per-example clip, DP-FedAvg's clip
// to S, the noise), repeatable for a trial.
import * as tf from '@tensorflow/tfjs-core';
import { initialWeights } from '@fedtl/model';
import { RdpAccountant } from '@fedtl/privacy';
import type { NamedTensor } from '@fedtl/protocol';
import { seededRandom } from '@fedtl/util';
import { TINY_SPEC } from './attack-fixtures';
import type { AuditDataset } from './audit-data';
import { MALICIOUS_PLAN, receive, type AuditSetting, type Reception, type TrialContext } from './audit-settings';
import { DP_DELTA, DP_EPSILONS, RECORD_CLIP, UPDATE_CLIP, clientLevelTerms, dpAuditSettings, recordLevelTerms } from './dp-settings';
import { attackedLayer } from './first-dense-layer';
import { dpFedAvgUpdate, flattenUpdate, honestUpdate, seededDpRandomness } from './observed-update';

const DEFAULT_PLAN = { localEpochs: 3, batchSize: 32, learningRate: 0.003, optimizer: 'adam' } as const;
/** Feature vectors ×30 so that one example's gradient is well above C = 1 and clipping bites. */
const SCALE = 30;

const random = seededRandom(7);
const vectors = new Map(Array.from({ length: 12 }, (_, i) => [`text ${i}`, Float32Array.from({ length: TINY_SPEC.inputDim }, () => SCALE * (2 * random() - 1))]));
const dataset: AuditDataset = {
  name: 'amazon',
  title: 'fixture',
  labels: TINY_SPEC.labels,
  organisations: [0, 1].map((o) => ({ name: `org-${o}`, examples: Array.from({ length: 6 }, (_, i) => ({ id: `${o}-${i}`, text: `text ${6 * o + i}`, label: TINY_SPEC.labels[i % 3] })) })),
  others: [],
  defaultPlan: DEFAULT_PLAN,
  defaultPlanSource: 'test',
};
const context = (trial: number): TrialContext => ({
  dataset,
  spec: TINY_SPEC,
  global: initialWeights(TINY_SPEC, 3),
  runSeed: 100 + trial,
  trial,
  featuresOf: (text) => vectors.get(text) ?? new Float32Array(TINY_SPEC.inputDim),
});
const norm = (tensors: readonly NamedTensor[]) => Math.hypot(...flattenUpdate(tensors));
const deltaOf = (reception: Reception) => {
  if (reception.kind !== 'update') throw new Error('expected an update');
  return reception.observed.delta;
};
const epsilonOf = (noiseMultiplier: number, samplingRate: number, steps: number) => new RdpAccountant().compose({ samplingRate, noiseMultiplier, steps }).epsilon(DP_DELTA);

describe('the DP rows of the leakage audit', () => {
  it('are DP-SGD on the malicious plan and the default plan at each size, then DP-FedAvg clip-only and at each ε', () => {
    const rows = dpAuditSettings(dataset, [1, 50]);
    expect(rows.map((r) => r.id)).toEqual([
      ...DP_EPSILONS.map((e) => `dpsgd-malicious-eps${e}`),
      ...DP_EPSILONS.map((e) => `dpsgd-default-1-eps${e}`),
      ...DP_EPSILONS.map((e) => `dpsgd-default-50-eps${e}`),
      'dpfedavg-clip-only',
      ...DP_EPSILONS.map((e) => `dpfedavg-malicious-eps${e}`),
    ]);
    expect(DP_EPSILONS).toEqual([8, 4, 2]);
    for (const row of rows) {
      expect(row).toMatchObject({ weights: 'initial', otherClients: 0 });
      expect(row.dp?.unit).toBe(row.protection === 'dp-sgd' ? 'record' : 'client');
      expect(row.dp?.clipNorm).toBe(row.protection === 'dp-sgd' ? RECORD_CLIP : UPDATE_CLIP);
    }
    expect(rows.find((r) => r.id === 'dpsgd-default-50-eps4')?.title).toBe('DP-SGD (ε = 4 for this one round, δ = 1e-5; C = 1, σ = 2.07, q = 0.64, 6 steps) + default plan (adam lr 0.003, 3 epochs, batch 32), 50 examples');
  });

  it("calibrate σ for this one round's steps: q = min(1, batch / n), epochs × round(1/q) steps, the smallest σ within ε", () => {
    const cases = [
      { plan: MALICIOUS_PLAN, examples: 1, samplingRate: 1, steps: 1 },
      { plan: DEFAULT_PLAN, examples: 1, samplingRate: 1, steps: 3 },
      { plan: DEFAULT_PLAN, examples: 50, samplingRate: 0.64, steps: 6 },
    ];
    for (const { plan, examples, samplingRate, steps } of cases) {
      for (const epsilon of DP_EPSILONS) {
        const terms = recordLevelTerms(plan, examples, epsilon);
        expect(terms).toMatchObject({ unit: 'record', epsilon, delta: 1e-5, clipNorm: 1, samplingRate, steps });
        expect(epsilonOf(terms.noiseMultiplier, samplingRate, steps)).toBeLessThanOrEqual(epsilon);
        expect(epsilonOf(terms.noiseMultiplier * 0.999, samplingRate, steps)).toBeGreaterThan(epsilon);
      }
    }
    // Client level: one step at q = 1, the same mechanism as the malicious plan's single DP-SGD step.
    for (const epsilon of DP_EPSILONS) {
      expect(clientLevelTerms(epsilon)).toEqual({ ...recordLevelTerms(MALICIOUS_PLAN, 1, epsilon), unit: 'client', clipNorm: UPDATE_CLIP });
    }
  });

  it("produce the DP-SGD row's update by DP-SGD: each example clipped to C, noise on top, repeatable for a trial", async () => {
    const tensorsBefore = tf.memory().numTensors;
    const [row] = dpAuditSettings(dataset, [1]);
    const plain = deltaOf(await receive({ ...row, protection: 'none', dp: undefined }, context(0)));
    // One SGD step on one example: ‖Δ‖ = lr·‖g‖, above lr·C here.
    expect(norm(plain)).toBeGreaterThan(2 * MALICIOUS_PLAN.learningRate * RECORD_CLIP);
    const clipOnly = deltaOf(await receive({ ...row, dp: { ...(row.dp as NonNullable<AuditSetting['dp']>), noiseMultiplier: 0 } }, context(0)));
    expect(norm(clipOnly)).toBeLessThanOrEqual(MALICIOUS_PLAN.learningRate * RECORD_CLIP * (1 + 1e-5));
    expect(norm(clipOnly)).toBeGreaterThan(MALICIOUS_PLAN.learningRate * RECORD_CLIP * 0.999);
    const noised = await receive(row, context(0));
    expect(noised.kind === 'update' && noised.observed.privacy).toEqual({ mechanism: 'dp-sgd', localSteps: 1 });
    // Noise of σ·C per coordinate times lr dominates: far from the clipped update, and the same again for the trial.
    const excess = flattenUpdate(deltaOf(noised)).map((v, i) => v - flattenUpdate(clipOnly)[i]);
    const perCoordinate = Math.hypot(...excess) / Math.sqrt(excess.length);
    expect(Math.abs(perCoordinate / (MALICIOUS_PLAN.learningRate * (row.dp?.noiseMultiplier ?? 0)) - 1)).toBeLessThan(0.2);
    expect(flattenUpdate(deltaOf(await receive(row, context(0))))).toEqual(flattenUpdate(deltaOf(noised)));
    expect(flattenUpdate(deltaOf(await receive(row, context(1))))).not.toEqual(flattenUpdate(deltaOf(noised)));
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });

  it("produce the DP-FedAvg row's update: the plain update clipped to S, plus N(0, z²S²)", async () => {
    const rows = dpAuditSettings(dataset, [1]);
    const clipRow = rows.find((r) => r.id === 'dpfedavg-clip-only') as AuditSetting;
    const noisyRow = rows.find((r) => r.id === 'dpfedavg-malicious-eps2') as AuditSetting;
    const plain = flattenUpdate(deltaOf(await receive({ ...clipRow, protection: 'none', dp: undefined }, context(0))));
    const clipped = flattenUpdate(deltaOf(await receive(clipRow, context(0))));
    const plainNorm = Math.hypot(...plain);
    expect(Math.hypot(...clipped)).toBeLessThanOrEqual(UPDATE_CLIP);
    clipped.forEach((v, i) => expect(v).toBeCloseTo((plain[i] * UPDATE_CLIP) / plainNorm, 8));
    const noised = flattenUpdate(deltaOf(await receive(noisyRow, context(0))));
    const excess = noised.map((v, i) => v - clipped[i]);
    const perCoordinate = Math.hypot(...excess) / Math.sqrt(excess.length);
    // 199 coordinates: the sample standard deviation is within 4 standard errors (1/√398 ≈ 5 %) of z·S.
    expect(Math.abs(perCoordinate / ((noisyRow.dp?.noiseMultiplier ?? 0) * UPDATE_CLIP) - 1)).toBeLessThan(0.2);
  });

  it('dpFedAvgUpdate leaves the update it is given as it was, and reports the norm before clipping', async () => {
    const update = await honestUpdate(TINY_SPEC, initialWeights(TINY_SPEC, 3), { features: vectors.get('text 0') as Float32Array, labels: Int32Array.of(0), n: 1 }, { ...MALICIOUS_PLAN, seed: 1 });
    const before = flattenUpdate(update.delta);
    const { observed, normBefore } = dpFedAvgUpdate(update, { clipNorm: UPDATE_CLIP, noiseMultiplier: 1, randomness: seededDpRandomness(1) });
    expect(flattenUpdate(update.delta)).toEqual(before);
    expect(normBefore).toBeCloseTo(Math.hypot(...before), 5);
    expect(observed.privacy).toEqual({ mechanism: 'dp-fedavg', localSteps: 1 });
  });

  it("the attacks read the head under DP when one step cannot have reached the adapter's down-projection", async () => {
    const [row] = dpAuditSettings(dataset, [1]);
    const noised = await receive(row, context(0));
    if (noised.kind !== 'update') throw new Error('expected an update');
    expect(attackedLayer(noised.observed).layer).toBe('head/out');
    expect(attackedLayer({ ...noised.observed, privacy: { mechanism: 'dp-sgd', localSteps: 3 } }).layer).toBe('adapter/down');
    // Without DP the layer that moved: the same head layer for one plain SGD step.
    const plain = await receive({ ...row, protection: 'none', dp: undefined }, context(0));
    if (plain.kind !== 'update') throw new Error('expected an update');
    expect(attackedLayer(plain.observed).layer).toBe('head/out');
  });
});
