// The public terms of one secure-aggregation round attempt (SecAggParams), chosen by the coordinator from what it
// knows anyway: the selected clients' declared example counts (from Join), the share cap and the norm bound.
import type { SecAggParams } from '@fedtl/protocol';
import { chooseFractionalBits, RING_BITS } from '@fedtl/privacy';
import { FedtlError } from '@fedtl/util';
import { weightCaps } from '../share-cap';

/** The training metrics summed inside every masked vector (each client's local-training loss and accuracy). */
export const SECAGG_METRIC_SLOTS: readonly string[] = ['loss', 'accuracy'];

export interface SecAggTermsInput {
  attempt: number;
  /** Each selected client's declared training example count, in selection order. */
  declaredExamples: readonly number[];
  /** --secagg-threshold: t, or 0 for the default ⌊n/2⌋ + 1 (at least 2). */
  threshold: number;
  /**
   * The largest threshold the selected clients' policies ask for (min other contributors + 1; 0: none). t is
   * raised to it when the round has that many clients; otherwise the clients asking for more refuse the plan.
   */
  policyThreshold?: number;
  /** --max-client-share. */
  maxClientShare: number;
  /** --max-update-norm: clients clip their delta to this L2 norm (the coordinator cannot see it any more). */
  maxUpdateNorm: number;
}

/**
 * The round's default threshold for n selected clients: a majority, ⌊n/2⌋ + 1, and at least 2 (with t = 1 the
 * coordinator could unmask a lone update).
 */
export function defaultThreshold(numSelected: number): number {
  return Math.max(2, Math.floor(numSelected / 2) + 1);
}

/**
 * SecAggParams for the attempt. The clip is max(--max-update-norm, 1), since the weight entry w_u/W ≤ 1 must fit
 * as well. Throws FEDTL_ERR_SECAGG_FAILED when fewer than t (or fewer than 2) clients were selected, and
 * FEDTL_ERR_BAD_CONFIG when n · clip does not fit the ring.
 */
export function secAggParamsFor(input: SecAggTermsInput): SecAggParams {
  const n = input.declaredExamples.length;
  const base = input.threshold > 0 ? input.threshold : defaultThreshold(n);
  const policy = input.policyThreshold ?? 0;
  const threshold = policy > base && policy <= n ? policy : base;
  if (n < 2 || threshold > n) {
    throw new FedtlError('FEDTL_ERR_SECAGG_FAILED', `expected at least ${Math.max(2, threshold)} selected clients for secure aggregation (threshold t = ${threshold}), got ${n}`);
  }
  const caps = weightCaps(input.declaredExamples, input.maxClientShare);
  const weightCap = Number.isFinite(caps.level) ? caps.level : Math.max(...input.declaredExamples);
  const weightBound = Math.max(...input.declaredExamples.map((count) => Math.min(count, weightCap)));
  const clip = Math.max(input.maxUpdateNorm, 1);
  return {
    attempt: input.attempt,
    threshold,
    numSelected: n,
    fractionalBits: chooseFractionalBits(n, clip),
    clip,
    weightBound,
    weightCap,
    metricSlots: [...SECAGG_METRIC_SLOTS],
    ringBits: RING_BITS,
  };
}
