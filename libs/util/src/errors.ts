// One catalogue of error codes. The same code travels in the protocol's Error message, so a client and an
// operator see the same words. Messages say what was expected and what came.

export const ERROR_CODES = {
  FEDTL_ERR_MALFORMED_MESSAGE: 'a message could not be decoded',
  FEDTL_ERR_PROTOCOL_VERSION: 'the peer speaks another protocol version',
  FEDTL_ERR_UNAUTHORIZED: 'the token was missing, wrong or revoked, was issued to another client id, or the client certificate does not name the client id',
  FEDTL_ERR_NOT_JOINED: 'the client sent a request before joining',
  FEDTL_ERR_DUPLICATE_CLIENT: 'another live connection holds this client id',
  FEDTL_ERR_BACKBONE_MISMATCH: 'the client uses another backbone than the federation',
  FEDTL_ERR_UNKNOWN_LABEL: 'the client has labels the federation does not know',
  FEDTL_ERR_WRONG_RUN: 'the message belongs to another run',
  FEDTL_ERR_WRONG_ROUND: 'the message belongs to another round',
  FEDTL_ERR_NOT_SELECTED: 'the client was not selected for this round',
  FEDTL_ERR_DUPLICATE_UPDATE: 'an update for this round and client was already accepted',
  FEDTL_ERR_BAD_TENSOR_NAME: 'a tensor name was missing, unknown or repeated',
  FEDTL_ERR_BAD_TENSOR_SHAPE: 'a tensor has another shape than expected',
  FEDTL_ERR_BAD_TENSOR_DTYPE: 'a tensor has another dtype than expected',
  FEDTL_ERR_BAD_TENSOR_DATA: 'tensor bytes do not match its shape and dtype',
  FEDTL_ERR_NON_FINITE: 'a tensor holds NaN or Infinity',
  FEDTL_ERR_BAD_EXAMPLE_COUNT: 'an example count is not an integer in its allowed range',
  FEDTL_ERR_ROUND_TIMEOUT: 'the round deadline passed',
  FEDTL_ERR_QUORUM_NOT_MET: 'fewer clients answered than the quorum needs',
  FEDTL_ERR_ACK_TIMEOUT: 'the peer did not acknowledge in time',
  FEDTL_ERR_BAD_CONFIG: 'a configuration value is invalid',
  FEDTL_ERR_BAD_DATA: 'a dataset row could not be read',
  FEDTL_ERR_CHECKPOINT_CORRUPT: 'a checkpoint failed its checksum',
  FEDTL_ERR_DIVERGED: 'training diverged: a loss or the aggregate is not finite or exploded',
  FEDTL_ERR_UPDATE_TOO_LARGE: "an update's L2 norm exceeds the operator's bound",
  FEDTL_ERR_BAD_REPORT: 'an evaluation report or metric is out of its range or names something unknown',
  FEDTL_ERR_TOO_MANY_CONNECTIONS: 'a cap on connections or joined clients was reached',
  FEDTL_ERR_RATE_LIMITED: 'too many failed attempts from this address; wait and retry',
  FEDTL_ERR_MESSAGE_TOO_LARGE: 'a message exceeds the size limit the coordinator accepts',
  FEDTL_ERR_UNREACHABLE: 'the coordinator could not be reached within the allowed time',
  FEDTL_ERR_TLS: 'the TLS handshake failed (certificate not trusted, wrong name, expired or missing)',
  FEDTL_ERR_RUN_FAILED: 'the run ended without finishing its rounds',
  FEDTL_ERR_OUT_DIR_LOCKED: 'another coordinator holds the output directory',
  FEDTL_ERR_NO_VALID_CHECKPOINT: 'checkpoints exist but none is usable',
  FEDTL_ERR_BAD_ENCODING: 'a text file is not UTF-8',
  FEDTL_ERR_SECAGG_UNSUPPORTED: 'the run uses secure aggregation and the client does not implement it',
  FEDTL_ERR_SECAGG_VIOLATION: 'a secure-aggregation message breaks the protocol (both secrets of one client asked for, a set below the threshold, a participant outside the round)',
  FEDTL_ERR_SECAGG_FAILED: 'secure aggregation could not finish the round attempt: fewer than the threshold of clients remained',
  FEDTL_ERR_POLICY_REFUSED: "the client's privacy policy refuses the run or the round's plan",
  FEDTL_ERR_PRIVACY_BUDGET: 'the round would take a privacy ledger over its (epsilon, delta) budget',
  FEDTL_ERR_FEATURE_UNSUPPORTED: "the run's plans need a local training rule (FedProx's term, Per-FedAvg's step) that the client does not implement",
  FEDTL_ERR_INTERNAL: 'an unexpected error',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ERROR_CODES, value);
}

/** An error that carries a catalogue code, so it can be sent over the wire unchanged. */
export class FedtlError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'FedtlError';
  }
}

/** Wraps anything thrown into a FedtlError, keeping the code when there is one. */
export function toFedtlError(err: unknown): FedtlError {
  if (err instanceof FedtlError) return err;
  return new FedtlError('FEDTL_ERR_INTERNAL', errorMessage(err));
}

/**
 * The message of anything thrown: an Error's message (also an Error from another realm — a worker thread, a
 * test sandbox — where `instanceof Error` is false), or the value as text (`throw undefined` included).
 */
export function errorMessage(err: unknown): string {
  if (typeof err === 'object' && err !== null && typeof (err as { message?: unknown }).message === 'string') {
    return (err as { message: string }).message;
  }
  return String(err);
}

/** Short text for a value that came instead of what was expected: never dumps a huge payload into a log. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `array(${value.length})`;
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${(value as ArrayBufferView).byteLength} bytes)`;
  if (typeof value === 'string') return value.length > 40 ? `string "${value.slice(0, 40)}…"` : `string "${value}"`;
  if (typeof value === 'object') return 'object';
  return `${typeof value} ${String(value)}`;
}

/**
 * A FEDTL_ERR_BAD_CONFIG for a check across options (the option declarations word their own refusals): `name`
 * (the flag or flags), what it expects and what came.
 */
export function configError(name: string, expected: string, got: unknown): FedtlError {
  return new FedtlError('FEDTL_ERR_BAD_CONFIG', `${name}: expected ${expected}, got ${JSON.stringify(got)}`);
}
