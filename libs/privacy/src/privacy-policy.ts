// A client's privacy policy: what it will accept from a coordinator, checked locally before it sends anything.
//
// Why on the client: the coordinator chooses each round's training config, and a curious or malicious one can
// choose the settings that leak most (one example, batch size 1, plain SGD: the update then carries that
// example's feature vector, Phong et al. 2018; Zhu et al., "Deep Leakage from Gradients", NeurIPS 2019).
// Secure aggregation only helps when the sum mixes enough clients. So each organisation states, and enforces
// itself, the least it accepts; the coordinator learns the policy at Join (to show an operator why a client
// stays out), but never enforces it for the client.
import { FedtlError } from '@fedtl/util';

/** What one client accepts. Every field has a "no constraint" value, the default. */
export interface PrivacyPolicy {
  /** Send an update only under secure aggregation (default false). */
  readonly requireSecureAggregation: boolean;
  /**
   * Under secure aggregation, the fewest other clients whose updates must be summed with this one (default 0).
   * Checked against the round's threshold t (an honest client never helps unmask a sum of fewer than t
   * updates, so the sum holds this update and at least t − 1 others) and the clients that shared keys.
   * Any value above 0 implies requireSecureAggregation.
   */
  readonly minOtherContributors: number;
  /** The fewest local training examples an update may be computed from (default 1). */
  readonly minExamples: number;
  /** The smallest batch size a round's plan may ask for (default 1). */
  readonly minBatchSize: number;
  /** The most rounds this client sends an update in during one run; 0 means no cap (default 0). */
  readonly maxRounds: number;
}

/** The policy that accepts every plan: what a client without privacy flags runs with. */
export const PERMISSIVE_POLICY: PrivacyPolicy = Object.freeze({
  requireSecureAggregation: false,
  minOtherContributors: 0,
  minExamples: 1,
  minBatchSize: 1,
  maxRounds: 0,
});

/** What the policy is checked against: one round's plan as this client would carry it out. */
export interface PolicyRequest {
  /** The plan's batch size. */
  readonly batchSize: number;
  /** The local training examples the update would be computed from. */
  readonly numExamples: number;
  /** Rounds this client already sent an update in, this run. */
  readonly roundsJoined: number;
  /** The round's secure aggregation, if on: its threshold t (the fewest updates the coordinator may unmask). */
  readonly secureAggregation?: { readonly threshold: number; readonly numSelected?: number };
}

/**
 * Throws FEDTL_ERR_BAD_CONFIG naming the field unless every field is a non-negative integer (minExamples and
 * minBatchSize at least 1) and requireSecureAggregation a boolean.
 */
export function assertPrivacyPolicy(policy: PrivacyPolicy): void {
  const integers: Array<[keyof PrivacyPolicy, number]> = [
    ['minOtherContributors', 0],
    ['minExamples', 1],
    ['minBatchSize', 1],
    ['maxRounds', 0],
  ];
  for (const [field, least] of integers) {
    const value = policy[field];
    if (!Number.isSafeInteger(value) || (value as number) < least) {
      throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `privacy policy: expected ${field} an integer >= ${least}, got ${String(value)}`);
    }
  }
  if (typeof policy.requireSecureAggregation !== 'boolean') {
    throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `privacy policy: expected requireSecureAggregation true or false, got ${String(policy.requireSecureAggregation)}`);
  }
}

/** True when the policy asks for secure aggregation, explicitly or through minOtherContributors > 0. */
export function policyRequiresSecureAggregation(policy: PrivacyPolicy): boolean {
  return policy.requireSecureAggregation || policy.minOtherContributors > 0;
}

/**
 * Why `policy` refuses `request`, as one sentence naming what it expected and what the plan asked for; null
 * when the request is allowed. The first broken rule is reported, in the order: round cap, secure aggregation,
 * other contributors, examples, batch size.
 */
export function policyViolation(policy: PrivacyPolicy, request: PolicyRequest): string | null {
  if (policy.maxRounds > 0 && request.roundsJoined >= policy.maxRounds) {
    return `expected at most ${policy.maxRounds} rounds with an update from this client (its --max-rounds policy), got a plan for one more`;
  }
  const secagg = request.secureAggregation;
  if (policyRequiresSecureAggregation(policy) && !secagg) {
    return 'expected a round under secure aggregation (this client\'s --require-secure-aggregation policy), got a plan that would send the update in the clear';
  }
  if (secagg && secagg.threshold - 1 < policy.minOtherContributors) {
    const round = secagg.numSelected !== undefined ? ` in a round of ${secagg.numSelected} clients` : '';
    return `expected a secure-aggregation threshold of at least ${policy.minOtherContributors + 1} (the update summed with at least ${policy.minOtherContributors} others, --min-other-contributors), got threshold ${secagg.threshold}${round}: lower --min-other-contributors or federate with more organisations`;
  }
  if (request.numExamples < policy.minExamples) {
    return `expected an update computed from at least ${policy.minExamples} examples (--min-examples), got ${request.numExamples}`;
  }
  if (request.batchSize < policy.minBatchSize) {
    return `expected a batch size of at least ${policy.minBatchSize} (--min-batch-size), got a plan with batch size ${request.batchSize}`;
  }
  return null;
}

/** One line for logs and the status API, e.g. "secure aggregation with >= 2 others, batch >= 16, <= 10 rounds". */
export function describePolicy(policy: PrivacyPolicy): string {
  const parts: string[] = [];
  if (policyRequiresSecureAggregation(policy)) {
    parts.push(policy.minOtherContributors > 0 ? `secure aggregation with >= ${policy.minOtherContributors} others` : 'secure aggregation');
  }
  if (policy.minExamples > 1) parts.push(`examples >= ${policy.minExamples}`);
  if (policy.minBatchSize > 1) parts.push(`batch >= ${policy.minBatchSize}`);
  if (policy.maxRounds > 0) parts.push(`<= ${policy.maxRounds} rounds`);
  return parts.length > 0 ? parts.join(', ') : 'accepts every plan';
}
