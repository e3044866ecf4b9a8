// A coordinator refuses a handshake before any WebSocket opens, with an HTTP status; the connection error
// then only carries "Unexpected server response: <status>". This maps it back to the catalogue code.
import type { ErrorCode } from '@fedtl/util';

const CODE_OF_STATUS: Record<string, ErrorCode> = {
  '401': 'FEDTL_ERR_UNAUTHORIZED',
  '429': 'FEDTL_ERR_RATE_LIMITED',
  '503': 'FEDTL_ERR_TOO_MANY_CONNECTIONS',
};

/**
 * The catalogue code of a connection error: from the Socket.IO middleware (`err.data.code`) or from the status
 * of a refused handshake; undefined for other failures (unreachable, TLS…).
 */
export function connectErrorCode(err: Error): string | undefined {
  const data = (err as Error & { data?: { code?: string } }).data;
  if (data?.code) return data.code;
  const description = (err as Error & { description?: { message?: unknown } }).description;
  const status = typeof description?.message === 'string' ? /Unexpected server response: (\d{3})/.exec(description.message)?.[1] : undefined;
  return status ? CODE_OF_STATUS[status] : undefined;
}
