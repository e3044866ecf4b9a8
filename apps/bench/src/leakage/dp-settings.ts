// The audit's rows with differential privacy on (issue 12): the strongest rows of issue 8's audit re-run with
// record-level DP-SGD (Abadi et al., CCS 2016; libs/model trainLocallyDpSgd, the client's own code) and with
// client-level DP-FedAvg (McMahan et al., ICLR 2018; the client clips its delta to S and noise N(0, z²S²) is added,
// docs/PROTOCOL.md §7.1). Every noise multiplier is calibrated with @fedtl/privacy's noiseMultiplierFor for the ε
// of this one round alone: a run of many rounds spends more, so it needs more noise and leaks less than these rows.
import { noiseMultiplierFor } from '@fedtl/privacy';
import { dpStepsPerEpoch } from '@fedtl/model';
import type { AuditDataset } from './audit-data';
import { MALICIOUS_PLAN, type AuditSetting, type DpTerms, type Plan } from './audit-settings';

/** The ε of the rows, at δ = DP_DELTA. */
export const DP_EPSILONS: readonly number[] = [8, 4, 2];
export const DP_DELTA = 1e-5;
/** C of record-level DP-SGD: each example's gradient, all trained tensors together, clipped to L2 norm 1. */
export const RECORD_CLIP = 1;
/**
 * S of client-level DP-FedAvg. Below the norm of every one-example malicious-plan delta of the audit (lr 0.01 times a
 * gradient of norm ≈ 0.5–1), so every update is clipped and the noise is z times the update's norm: the attacker's
 * best case (a larger S leaves the update as it is and only adds noise; the attacks do not depend on its scale).
 */
export const UPDATE_CLIP = 1e-3;

/** σ for (ε, δ, q, steps), each computed once: a bisection over the accountant takes about a second, and the rows of both datasets ask for the same few. */
const calibrated = new Map<string, number>();
function noiseFor(targetEpsilon: number, delta: number, samplingRate: number, steps: number): number {
  const key = `${targetEpsilon}/${delta}/${samplingRate}/${steps}`;
  let sigma = calibrated.get(key);
  if (sigma === undefined) {
    sigma = noiseMultiplierFor({ targetEpsilon, delta, samplingRate, steps });
    calibrated.set(key, sigma);
  }
  return sigma;
}

/**
 * Record-level terms of one round of `plan` on `examples` records: q = min(1, batch / n), steps = epochs × round(1/q)
 * (dp-sgd.ts), and the smallest σ whose steps spend at most `epsilon` at `delta`.
 */
export function recordLevelTerms(plan: Plan, examples: number, epsilon: number, delta = DP_DELTA): DpTerms {
  const samplingRate = Math.min(1, plan.batchSize / examples);
  const steps = plan.localEpochs * dpStepsPerEpoch(samplingRate);
  return { unit: 'record', epsilon, delta, clipNorm: RECORD_CLIP, samplingRate, steps, noiseMultiplier: noiseFor(epsilon, delta, samplingRate, steps) };
}

/** Client-level terms of one round in which the target client is sure to take part (q = 1, one step). */
export function clientLevelTerms(epsilon: number, delta = DP_DELTA): DpTerms {
  return { unit: 'client', epsilon, delta, clipNorm: UPDATE_CLIP, samplingRate: 1, steps: 1, noiseMultiplier: noiseFor(epsilon, delta, 1, 1) };
}

const fixed = (value: number) => Number(value.toPrecision(3)).toString();
const describeTerms = (dp: DpTerms) =>
  `ε = ${dp.epsilon} for this one round, δ = ${dp.delta.toExponential()}; ${dp.unit === 'record' ? 'C' : 'S'} = ${dp.clipNorm}, ${dp.unit === 'record' ? 'σ' : 'z'} = ${fixed(dp.noiseMultiplier)}, q = ${fixed(dp.samplingRate)}, ${dp.steps} step${dp.steps === 1 ? '' : 's'}`;

/**
 * The DP rows for `dataset`: record-level DP-SGD on the malicious plan (1 example) and on the default plan at each
 * of `sizes`, and client-level DP-FedAvg on the malicious plan's update, each at every ε of DP_EPSILONS; plus the
 * malicious update clipped to S without noise (what the coordinator sees when it adds the noise itself, in the clear).
 */
export function dpAuditSettings(dataset: AuditDataset, sizes: readonly number[]): AuditSetting[] {
  const plan = dataset.defaultPlan;
  const base = { receives: `the client's delta (float32, every tensor)`, weights: 'initial' as const, otherClients: 0 };
  const rows: AuditSetting[] = [];
  for (const epsilon of DP_EPSILONS) {
    const dp = recordLevelTerms(MALICIOUS_PLAN, 1, epsilon);
    rows.push({ ...base, id: `dpsgd-malicious-eps${epsilon}`, title: `DP-SGD (${describeTerms(dp)}) + malicious plan (sgd lr ${MALICIOUS_PLAN.learningRate}, 1 epoch, batch 1), 1 example`, protection: 'dp-sgd', plan: MALICIOUS_PLAN, examples: 1, dp });
  }
  for (const examples of sizes) {
    for (const epsilon of DP_EPSILONS) {
      const dp = recordLevelTerms(plan, examples, epsilon);
      rows.push({
        ...base,
        id: `dpsgd-default-${examples}-eps${epsilon}`,
        title: `DP-SGD (${describeTerms(dp)}) + default plan (${plan.optimizer} lr ${plan.learningRate}, ${plan.localEpochs} epochs, batch ${plan.batchSize}), ${examples} example${examples === 1 ? '' : 's'}`,
        protection: 'dp-sgd',
        plan,
        examples,
        dp,
      });
    }
  }
  const clipOnly: DpTerms = { ...clientLevelTerms(DP_EPSILONS[0]), epsilon: Infinity, noiseMultiplier: 0 };
  rows.push({
    ...base,
    id: 'dpfedavg-clip-only',
    title: `DP-FedAvg clip only (S = ${UPDATE_CLIP}, no noise; ε = ∞) + malicious plan, 1 example`,
    receives: `the client's delta clipped to S: in the clear the coordinator adds the noise itself, so this is what it sees`,
    protection: 'dp-fedavg',
    plan: MALICIOUS_PLAN,
    examples: 1,
    dp: clipOnly,
  });
  for (const epsilon of DP_EPSILONS) {
    const dp = clientLevelTerms(epsilon);
    rows.push({
      ...base,
      id: `dpfedavg-malicious-eps${epsilon}`,
      title: `DP-FedAvg (${describeTerms(dp)}) + malicious plan, 1 example`,
      receives: `the client's delta clipped to S plus N(0, z²S²) per coordinate, alone (the noise the sum of the round's clients carries, on one client: the worst case)`,
      protection: 'dp-fedavg',
      plan: MALICIOUS_PLAN,
      examples: 1,
      dp,
    });
  }
  return rows;
}
