// What a secure-aggregation secret is bound to, and the byte string that binds it (HKDF's `info`).
//
// Bonawitz et al., CCS 2017 (https://eprint.iacr.org/2017/281), §3 and §5 use fresh keys per round;
// fedtl also binds every derived key to the run, the round, the round attempt's session and its purpose, so that a seed used for one thing
// can never stand in for another (a self mask for a pairwise mask, round r for round r + 1, one run for the
// next after a coordinator restart). The encoding is unambiguous and easy to reproduce in another language:
// the label and then each field, each as a 4-byte big-endian byte length followed by its UTF-8 bytes.
import { createHash } from 'node:crypto';
import { FedtlError } from '@fedtl/util';

/** The run and round a secure-aggregation secret belongs to. */
export interface SecAggContext {
  /** The run's id, as the coordinator announces it (non-empty). */
  readonly runId: string;
  /** The round number (a non-negative integer). */
  readonly round: number;
  /**
   * The round attempt's session: the lowercase hex SHA-256 of the RoundPlan payload as received (see
   * {@link planSession}). Binds every key to one attempt and to the weights and config that were sent, so two
   * clients given different plans derive masks that do not cancel. Non-empty, at most 128 characters.
   */
  readonly session: string;
}

/** The context fields every derivation binds, in order: run id, decimal round, session. */
export function contextFields(context: SecAggContext): string[] {
  return [context.runId, String(context.round), context.session];
}

/** The session of a round attempt: lowercase hex SHA-256 of the RoundPlan payload bytes exactly as sent. */
export function planSession(planPayload: Uint8Array): string {
  return createHash('sha256').update(planPayload).digest('hex');
}

/** Node's HKDF refuses an `info` longer than this many bytes. */
const MAX_INFO_BYTES = 1024;

/** Throws FEDTL_ERR_BAD_CONFIG unless the run id is a non-empty string and the round a non-negative integer. */
export function assertSecAggContext(context: SecAggContext): void {
  if (typeof context.runId !== 'string' || context.runId.length === 0) {
    throw new FedtlError(
      'FEDTL_ERR_BAD_CONFIG',
      `secure aggregation: expected a non-empty run id, got ${JSON.stringify(context.runId)}`,
    );
  }
  if (!Number.isSafeInteger(context.round) || context.round < 0) {
    throw new FedtlError(
      'FEDTL_ERR_BAD_CONFIG',
      `secure aggregation: expected the round a non-negative integer, got ${context.round}`,
    );
  }
  if (typeof context.session !== 'string' || context.session.length === 0 || context.session.length > 128) {
    throw new FedtlError(
      'FEDTL_ERR_BAD_CONFIG',
      `secure aggregation: expected a session of 1 to 128 characters, got ${JSON.stringify(context.session)}`,
    );
  }
}

/**
 * HKDF `info` for `label` (e.g. "fedtl/secagg/v1/mask-prg") and its fields, length-prefixed as above.
 * Throws FEDTL_ERR_BAD_CONFIG when the result exceeds 1,024 bytes (HKDF-SHA256's limit in node:crypto).
 */
export function kdfInfo(label: string, fields: readonly string[]): Buffer {
  const parts: Buffer[] = [];
  for (const text of [label, ...fields]) {
    const bytes = Buffer.from(text, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    parts.push(length, bytes);
  }
  const info = Buffer.concat(parts);
  if (info.length > MAX_INFO_BYTES) {
    throw new FedtlError(
      'FEDTL_ERR_BAD_CONFIG',
      `secure aggregation: expected a key-derivation context of at most ${MAX_INFO_BYTES} bytes, ` +
        `got ${info.length} (${label})`,
    );
  }
  return info;
}
