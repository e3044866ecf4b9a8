import { FedtlError } from '@fedtl/util';
import { PERMISSIVE_POLICY, assertPrivacyPolicy, describePolicy, policyViolation, type PrivacyPolicy } from './privacy-policy';

const request = { batchSize: 32, numExamples: 100, roundsJoined: 0 };

describe('policyViolation', () => {
  it('accepts every plan under the permissive policy', () => {
    expect(policyViolation(PERMISSIVE_POLICY, { batchSize: 1, numExamples: 1, roundsJoined: 1000 })).toBeNull();
    expect(describePolicy(PERMISSIVE_POLICY)).toBe('accepts every plan');
  });

  it('refuses a plan in the clear when secure aggregation is required, explicitly or through other contributors', () => {
    const required: PrivacyPolicy = { ...PERMISSIVE_POLICY, requireSecureAggregation: true };
    expect(policyViolation(required, request)).toMatch(/under secure aggregation.*in the clear/);
    expect(policyViolation({ ...PERMISSIVE_POLICY, minOtherContributors: 2 }, request)).toMatch(/in the clear/);
    expect(policyViolation(required, { ...request, secureAggregation: { threshold: 2 } })).toBeNull();
  });

  it('refuses a threshold that sums this update with fewer others than the policy asks', () => {
    const policy: PrivacyPolicy = { ...PERMISSIVE_POLICY, minOtherContributors: 3 };
    expect(policyViolation(policy, { ...request, secureAggregation: { threshold: 3 } })).toMatch(/threshold of at least 4.*got threshold 3/);
    expect(policyViolation(policy, { ...request, secureAggregation: { threshold: 4 } })).toBeNull();
  });

  it('refuses small batches, too few examples and rounds beyond the cap, naming expected and got', () => {
    expect(policyViolation({ ...PERMISSIVE_POLICY, minBatchSize: 16 }, { ...request, batchSize: 1 })).toMatch(/at least 16.*batch size 1/);
    expect(policyViolation({ ...PERMISSIVE_POLICY, minExamples: 200 }, request)).toMatch(/at least 200 examples.*got 100/);
    expect(policyViolation({ ...PERMISSIVE_POLICY, maxRounds: 3 }, { ...request, roundsJoined: 3 })).toMatch(/at most 3 rounds/);
    expect(policyViolation({ ...PERMISSIVE_POLICY, maxRounds: 3 }, { ...request, roundsJoined: 2 })).toBeNull();
  });
});

describe('assertPrivacyPolicy', () => {
  it('refuses negative, fractional and zero minimums with the field named', () => {
    expect(() => assertPrivacyPolicy({ ...PERMISSIVE_POLICY, minBatchSize: 0 })).toThrow(/minBatchSize an integer >= 1, got 0/);
    expect(() => assertPrivacyPolicy({ ...PERMISSIVE_POLICY, minOtherContributors: 1.5 })).toThrow(FedtlError);
    expect(() => assertPrivacyPolicy({ ...PERMISSIVE_POLICY, maxRounds: -1 })).toThrow(/maxRounds/);
    expect(() => assertPrivacyPolicy(PERMISSIVE_POLICY)).not.toThrow();
  });
});
