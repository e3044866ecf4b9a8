// The client process's exit status: what a script or an orchestrator reads to know how the run went.
//
//   0    the run finished: the coordinator's verdict was FINISHED
//   1    the run failed (a FAILED verdict, printed with its cause), the coordinator ended the session without a
//        verdict, or this client failed on its own (training thread, data, an update over the size limit)
//   2    refused or misconfigured: the coordinator refused this client (token, protocol version, backbone,
//        labels…), this client's privacy policy refused the run (no secure aggregation), a flag is invalid, the
//        URL carries a path, the coordinator's certificate is not trusted, a local label is not in the model's
//        label set (--adapt-only), or the privacy ledger (--dp-ledger) is corrupt
//   3    unreachable: no session with the coordinator for --give-up-after-ms
//   130  stopped by SIGINT; 143 stopped by SIGTERM (128 + the signal's number, as shells report it)
import type { RunEnd } from '@fedtl/protocol';
import type { FedtlError } from '@fedtl/util';

export const EXIT_CODES = { finished: 0, failed: 1, refused: 2, unreachable: 3, SIGINT: 130, SIGTERM: 143 } as const;

/** How a client session ended: the FederatedClient's terminal event and its payload. */
export type ClientOutcome =
  | { event: 'finished'; verdict: RunEnd }
  | { event: 'refused'; error: FedtlError }
  | { event: 'failed'; error: FedtlError };

/** Failures that are the user's to fix, not the run's: reported as "refused or misconfigured". */
const CONFIGURATION_CODES: ReadonlySet<string> = new Set(['FEDTL_ERR_BAD_CONFIG', 'FEDTL_ERR_TLS', 'FEDTL_ERR_UNKNOWN_LABEL']);

/** The exit status for an outcome (see the table above). */
export function exitCodeFor(outcome: ClientOutcome): number {
  if (outcome.event === 'finished') return outcome.verdict.status === 'finished' ? EXIT_CODES.finished : EXIT_CODES.failed;
  if (outcome.event === 'refused') return EXIT_CODES.refused;
  return exitCodeForError(outcome.error);
}

/** The exit status for an error that ended the client (a failure event, or one thrown before it started). */
export function exitCodeForError(error: Pick<FedtlError, 'code'>): number {
  if (error.code === 'FEDTL_ERR_UNREACHABLE') return EXIT_CODES.unreachable;
  if (CONFIGURATION_CODES.has(error.code)) return EXIT_CODES.refused;
  return EXIT_CODES.failed;
}

/** The line printed to stderr for an outcome that is not a finished run; undefined for a finished run. */
export function describeOutcome(outcome: ClientOutcome): string | undefined {
  if (outcome.event === 'finished') {
    const { verdict } = outcome;
    if (verdict.status === 'finished') return undefined;
    return `the run failed after ${verdict.roundsCompleted} completed rounds: ${verdict.error.code}: ${verdict.error.message}`;
  }
  const what =
    outcome.event === 'failed' ? 'stopped' : outcome.error.code === 'FEDTL_ERR_POLICY_REFUSED' ? "refused by this client's privacy policy" : 'refused by the coordinator';
  return `${what}: ${outcome.error.code}: ${outcome.error.message}`;
}
