import { FedtlError } from '@fedtl/util';
import { EXIT_CODES, describeOutcome, exitCodeFor, exitCodeForError } from './exit-codes';

describe('client exit codes', () => {
  it('exits 0 only on a FINISHED verdict', () => {
    expect(exitCodeFor({ event: 'finished', verdict: { runId: 'r', status: 'finished', roundsCompleted: 3 } })).toBe(0);
    expect(describeOutcome({ event: 'finished', verdict: { runId: 'r', status: 'finished', roundsCompleted: 3 } })).toBeUndefined();
  });

  it('exits 1 with the cause on a FAILED verdict', () => {
    const outcome = { event: 'finished' as const, verdict: { runId: 'r', status: 'failed' as const, error: { code: 'FEDTL_ERR_QUORUM_NOT_MET' as const, message: 'round 2 missed its quorum' }, roundsCompleted: 1 } };
    expect(exitCodeFor(outcome)).toBe(EXIT_CODES.failed);
    expect(describeOutcome(outcome)).toBe('the run failed after 1 completed rounds: FEDTL_ERR_QUORUM_NOT_MET: round 2 missed its quorum');
  });

  it('exits 2 when refused or misconfigured, 3 when unreachable, 1 on other failures', () => {
    expect(exitCodeFor({ event: 'refused', error: new FedtlError('FEDTL_ERR_PROTOCOL_VERSION', 'expected 1, got 2') })).toBe(2);
    expect(exitCodeFor({ event: 'failed', error: new FedtlError('FEDTL_ERR_TLS', 'untrusted') })).toBe(2);
    expect(exitCodeFor({ event: 'failed', error: new FedtlError('FEDTL_ERR_BAD_CONFIG', 'a path') })).toBe(2);
    expect(exitCodeFor({ event: 'failed', error: new FedtlError('FEDTL_ERR_UNREACHABLE', 'gone') })).toBe(3);
    expect(exitCodeFor({ event: 'failed', error: new FedtlError('FEDTL_ERR_RUN_FAILED', 'no verdict') })).toBe(1);
    expect(exitCodeForError(new FedtlError('FEDTL_ERR_MESSAGE_TOO_LARGE', 'big'))).toBe(1);
  });

  it('exits 2 when its own privacy policy refuses the run, and says so rather than blaming the coordinator', () => {
    const outcome = { event: 'refused' as const, error: new FedtlError('FEDTL_ERR_POLICY_REFUSED', 'requires secure aggregation') };
    expect(exitCodeFor(outcome)).toBe(EXIT_CODES.refused);
    expect(describeOutcome(outcome)).toBe("refused by this client's privacy policy: FEDTL_ERR_POLICY_REFUSED: requires secure aggregation");
    expect(describeOutcome({ event: 'refused', error: new FedtlError('FEDTL_ERR_UNAUTHORIZED', 'bad token') })).toBe('refused by the coordinator: FEDTL_ERR_UNAUTHORIZED: bad token');
  });
});
