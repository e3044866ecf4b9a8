// The audit's rows: the plan a coordinator sends and the protection in place, and, for one trial, what the
// coordinator then holds of the target client (an update, a masked vector, a sum with other clients, or
// nothing when the client's privacy policy refuses the plan).
import type { LabelledFeatures } from '@fedtl/model';
import type { ModelSpec, NamedTensor, TrainingConfig } from '@fedtl/protocol';
import { describePolicy, policyViolation, type PrivacyPolicy } from '@fedtl/privacy';
import { createHash } from 'node:crypto';
import { FedtlError, createLogger, deriveSeed, seededRandom, shuffled } from '@fedtl/util';
import type { AuditDataset } from './audit-data';
import { dpFedAvgUpdate, dpSgdUpdate, honestUpdate, seededDpRandomness, type ObservedUpdate } from './observed-update';
import { secureRound } from './secure-aggregation-view';

export type Plan = Omit<TrainingConfig, 'seed'>;

const log = createLogger('bench-leakage');

/**
 * What a malicious coordinator asks for: plain SGD, one step on one example (batch 1, one epoch), so that the
 * delta is −lr times that example's gradient (Zhu et al. 2019; Phong et al. 2018). Any lr gives the same ratio.
 */
export const MALICIOUS_PLAN: Plan = { localEpochs: 1, batchSize: 1, learningRate: 0.01, optimizer: 'sgd' };

/** A cautious organisation's policy: the rows "client privacy policy" check the malicious plan against it. */
export const AUDIT_POLICY: PrivacyPolicy = { requireSecureAggregation: true, minOtherContributors: 9, minExamples: 50, minBatchSize: 16, maxRounds: 0 };

/** The coordinator's default --max-update-norm: the clip of the secure-aggregation vector. */
const UPDATE_CLIP = 100;
/** Peers whose pairwise masks cover the target's vector in the "one masked vector" row. */
const MASKING_PEERS = 2;

export type Protection = 'none' | 'masked' | 'sum' | 'policy' | 'dp-sgd' | 'dp-fedavg';

/** The differential privacy of a DP row (dp-settings.ts): one round's terms. */
export interface DpTerms {
  /** 'record': DP-SGD on the client (C, σ); 'client': DP-FedAvg (S, z). */
  unit: 'record' | 'client';
  /** The ε this one round spends at `delta` (Infinity, null in JSON, for clipping without noise). */
  epsilon: number;
  delta: number;
  /** C (record) or S (client). */
  clipNorm: number;
  /** q: each record's probability of being in a step (record), the client's of being in the round (client). */
  samplingRate: number;
  /** Steps of the mechanism in the round: epochs × round(1/q) (record), 1 (client). */
  steps: number;
  /** σ (record) or z (client): the noise's standard deviation over the clip norm. */
  noiseMultiplier: number;
}

export interface AuditSetting {
  /** Stable id for report.json, e.g. 'default-50', 'malicious', 'secagg-sum-3'. */
  id: string;
  title: string;
  /** What the coordinator receives, for report.md. */
  receives: string;
  protection: Protection;
  plan: Plan;
  /** The target client's examples. */
  examples: number;
  /** The global weights the coordinator sends: the run's initial weights, or the imprint trap (imprint-trap.ts). */
  weights: 'initial' | 'trap';
  /** Other clients in the secure round (masked and sum rows), each with `examples` of its own organisation's texts. */
  otherClients: number;
  /** The DP rows' terms (protection 'dp-sgd' or 'dp-fedavg'). */
  dp?: DpTerms;
}

/**
 * The rows for `dataset`: default plan at each size, the malicious plan, each protection, and the imprint trap
 * (malicious weights) on a batch of `trapExamples`, alone, with the default plan and under a secure sum that the
 * audit's client policy accepts.
 */
export function auditSettings(dataset: AuditDataset, sizes: readonly number[], sumOthers: readonly number[], trapExamples: number): AuditSetting[] {
  const plan = dataset.defaultPlan;
  const planText = `${plan.optimizer} lr ${plan.learningRate}, ${plan.localEpochs} epochs, batch ${plan.batchSize}`;
  const malicious = `sgd lr ${MALICIOUS_PLAN.learningRate}, 1 epoch, batch 1`;
  const rows: AuditSetting[] = sizes.map((examples) => ({
    id: `default-${examples}`,
    title: `default plan (${planText}), ${examples} example${examples === 1 ? '' : 's'}`,
    receives: `the client's delta (float32, every tensor)`,
    protection: 'none',
    plan,
    examples,
    weights: 'initial',
    otherClients: 0,
  }));
  rows.push({ id: 'malicious', title: `malicious plan (${malicious}), 1 example`, receives: `the client's delta (float32, every tensor)`, protection: 'none', plan: MALICIOUS_PLAN, examples: 1, weights: 'initial', otherClients: 0 });
  rows.push({
    id: 'secagg-masked',
    title: `secure aggregation: one masked vector (malicious plan)`,
    receives: `y_u = fixed-point update + self mask + pairwise masks with ${MASKING_PEERS} peers (mod 2^32), decoded as a delta`,
    protection: 'masked',
    plan: MALICIOUS_PLAN,
    examples: 1,
    weights: 'initial',
    otherClients: MASKING_PEERS,
  });
  for (const others of sumOthers) {
    rows.push({
      id: `secagg-sum-${others + 1}`,
      title: `secure aggregation: the sum of ${others + 1} clients (malicious plan)`,
      receives: `the unmasked weighted mean of the target's and ${others} other clients' updates (1 example each)`,
      protection: 'sum',
      plan: MALICIOUS_PLAN,
      examples: 1,
      weights: 'initial',
      otherClients: others,
    });
  }
  rows.push({
    id: 'policy',
    title: `client privacy policy (${describePolicy(AUDIT_POLICY)}) vs the malicious plan`,
    receives: 'nothing',
    protection: 'policy',
    plan: MALICIOUS_PLAN,
    examples: 1,
    weights: 'initial',
    otherClients: 0,
  });
  const trapPlan: Plan = { localEpochs: 1, batchSize: trapExamples, learningRate: 0.01, optimizer: 'sgd' };
  const trapSum = Math.max(...sumOthers);
  const verdict = policyViolation(AUDIT_POLICY, { batchSize: trapPlan.batchSize, numExamples: trapExamples, roundsJoined: 0, secureAggregation: { threshold: trapSum + 1 } });
  rows.push(
    {
      id: `trap-sgd-${trapExamples}`,
      title: `malicious weights (imprint trap) + sgd, 1 epoch, batch ${trapExamples}, ${trapExamples} examples`,
      receives: `the client's delta (float32, every tensor)`,
      protection: 'none',
      plan: trapPlan,
      examples: trapExamples,
      weights: 'trap',
      otherClients: 0,
    },
    {
      id: `trap-default-${trapExamples}`,
      title: `malicious weights (imprint trap) + the default plan, ${trapExamples} examples`,
      receives: `the client's delta (float32, every tensor)`,
      protection: 'none',
      plan,
      examples: trapExamples,
      weights: 'trap',
      otherClients: 0,
    },
    {
      id: `trap-secagg-sum-${trapSum + 1}`,
      title: `malicious weights (imprint trap) + sgd batch ${trapExamples} under secure aggregation, sum of ${trapSum + 1} clients (${verdict === null ? 'the client policy accepts this plan' : `the client policy refuses: ${verdict}`})`,
      receives: `the unmasked weighted mean of the target's and ${trapSum} other clients' updates (${trapExamples} examples each)`,
      protection: 'sum',
      plan: trapPlan,
      examples: trapExamples,
      weights: 'trap',
      otherClients: trapSum,
    },
  );
  return rows;
}

/** One trial's fixed parts: the run's model and weights, and how to turn texts into features. */
export interface TrialContext {
  dataset: AuditDataset;
  spec: ModelSpec;
  /** The run's initial global weights, what the coordinator sends in round 1. */
  global: NamedTensor[];
  runSeed: number;
  trial: number;
  featuresOf: (text: string) => Float32Array;
}

/** What the coordinator holds of the target, and the target's true feature vectors. */
export type Reception =
  | { kind: 'update'; observed: ObservedUpdate; truth: Float32Array[] }
  | { kind: 'refused'; reason: string; truth: Float32Array[] };

function clientData(context: TrialContext, organisation: number, count: number, salt: string): { id: string; data: LabelledFeatures; features: Float32Array[] } {
  const { dataset } = context;
  const org = dataset.organisations[organisation % dataset.organisations.length];
  const examples = shuffled(org.examples, seededRandom(deriveSeed(context.runSeed, 'client-data', salt, org.name))).slice(0, count);
  const features = examples.map((e) => context.featuresOf(e.text));
  const data: LabelledFeatures = { features: new Float32Array(examples.length * context.spec.inputDim), labels: Int32Array.from(examples, (e) => dataset.labels.indexOf(e.label)), n: examples.length };
  features.forEach((f, i) => data.features.set(f, i * context.spec.inputDim));
  return { id: `${org.name}${salt === 'target' ? '' : `-${salt}`}`, data, features };
}

/**
 * Plays round 1 of a run: the target client (organisation trial mod organisations) trains on `setting.examples`
 * of its texts with the client's own code, and the coordinator gets what `setting.protection` lets through.
 * Other clients draw from the other organisations (their own data), never the target's texts.
 */
export async function receive(setting: AuditSetting, context: TrialContext): Promise<Reception> {
  const trainSeed = deriveSeed(context.runSeed, 'train', 1);
  const planFor = (clientId: string): TrainingConfig => ({ ...setting.plan, seed: deriveSeed(trainSeed, clientId) });
  const target = clientData(context, context.trial, setting.examples, 'target');
  if (setting.protection === 'policy') {
    const reason = policyViolation(AUDIT_POLICY, { batchSize: setting.plan.batchSize, numExamples: setting.examples, roundsJoined: 0 });
    if (reason !== null) return { kind: 'refused', reason: `refused by the client's policy, nothing received: ${reason}`, truth: target.features };
  }
  if (setting.protection === 'dp-sgd' || setting.protection === 'dp-fedavg') return receiveWithDp(setting, context, target, planFor(target.id));
  const own = await honestUpdate(context.spec, context.global, target.data, planFor(target.id));
  if (setting.protection === 'none' || setting.protection === 'policy') return { kind: 'update', observed: own, truth: target.features };
  const peers = [];
  for (let p = 0; p < setting.otherClients; p++) {
    // Organisations after the target's, in turn; a peer from the target's own organisation still gets other texts.
    const peer = clientData(context, context.trial + 1 + (p % Math.max(1, context.dataset.organisations.length - 1)), setting.examples, `peer-${p}`);
    const update = await honestUpdate(context.spec, context.global, peer.data, planFor(peer.id));
    peers.push({ clientId: peer.id, delta: update.delta, numExamples: update.numExamples });
  }
  const view = secureRound([{ clientId: target.id, delta: own.delta, numExamples: own.numExamples }, ...peers], {
    runId: `leakage-${context.runSeed}`,
    round: 1,
    planBytes: new TextEncoder().encode(JSON.stringify({ setting: setting.id, trial: context.trial, plan: setting.plan })),
    clip: UPDATE_CLIP,
    // Seeded secrets: the masked rows repeat exactly for a given --seed, like every other row.
    secretBytes: (label) => createHash('sha256').update(`fedtl-leakage/${context.runSeed}/${setting.id}/${context.trial}/${label}`).digest(),
  });
  if (setting.protection === 'masked') {
    const masked = view.maskedAsDelta.get(target.id) as NamedTensor[];
    return { kind: 'update', observed: { ...own, delta: masked }, truth: target.features };
  }
  return { kind: 'update', observed: { ...own, delta: view.meanDelta, numExamples: view.totalExamples }, truth: target.features };
}

/**
 * The DP rows: the target's update by DP-SGD, or its ordinary update clipped and noised (DP-FedAvg), with the
 * sampling and noise seeded from the trial's run seed and the row (the client's own source is node:crypto).
 */
async function receiveWithDp(setting: AuditSetting, context: TrialContext, target: ReturnType<typeof clientData>, plan: TrainingConfig): Promise<Reception> {
  const dp = setting.dp;
  if (!dp) throw new FedtlError('FEDTL_ERR_INTERNAL', `leakage row "${setting.id}": expected DP terms for protection ${setting.protection}, got none`);
  const randomness = seededDpRandomness(deriveSeed(context.runSeed, 'dp-randomness', setting.id));
  const terms = { clipNorm: dp.clipNorm, noiseMultiplier: dp.noiseMultiplier, randomness };
  if (setting.protection === 'dp-sgd') return { kind: 'update', observed: await dpSgdUpdate(context.spec, context.global, target.data, plan, terms), truth: target.features };
  const own = await honestUpdate(context.spec, context.global, target.data, plan);
  const { observed, normBefore } = dpFedAvgUpdate(own, terms);
  // The row's claim (every update clipped, the attacker's best case) is checked on every trial.
  if (normBefore <= dp.clipNorm) log.warn('DP-FedAvg row: update not clipped, its relative noise is above z', { setting: setting.id, trial: context.trial, norm: normBefore, clipNorm: dp.clipNorm });
  return { kind: 'update', observed, truth: target.features };
}
