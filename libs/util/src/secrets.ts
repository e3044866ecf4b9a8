// Comparing shared secrets (federation tokens) in constant time, so a client cannot learn a token
// byte by byte from how long a refusal takes.
import { createHash, timingSafeEqual } from 'node:crypto';

export function secretsEqual(given: string, expected: string): boolean {
  // Hashing first gives equal lengths, so not even the token's length leaks.
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The shortest federation or operator token accepted: 16 characters (e.g. `openssl rand -hex 32` gives 64). */
export const MIN_TOKEN_LENGTH = 16;

/** Values copied from examples and defaults, refused as tokens (compared lower-case, letters and digits only). */
const PLACEHOLDER_TOKENS = ['changeme', 'secret', 'password', 'token', 'example', 'placeholder', 'default', 'fedtl', 'test', 'admin'];

/**
 * Why `token` is too weak to guard a federation, or undefined when it is acceptable: shorter than
 * MIN_TOKEN_LENGTH, a known placeholder (also padded, e.g. "change-me-please"), or one repeated character.
 * The answer never contains the token itself, so it can go into an error message or a log.
 */
export function tokenWeakness(token: string): string | undefined {
  const normalized = token.toLowerCase().replace(/[^a-z0-9]/g, '');
  const placeholder = PLACEHOLDER_TOKENS.find((p) => normalized.startsWith(p));
  if (placeholder) return `a known placeholder ("${placeholder}…")`;
  if (token.length < MIN_TOKEN_LENGTH) return `${token.length} characters (fewer than ${MIN_TOKEN_LENGTH})`;
  if (new Set(token).size === 1) return 'one repeated character';
  return undefined;
}

/**
 * `url` with its user name and password and the values of its query parameters (if any) replaced by `***`, for
 * logs, error messages and --print-config: a coordinator URL pasted with credentials (or a dashboard URL with its
 * `?token=`) must not end up in a terminal transcript. Text that is not a URL comes back as is.
 */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url;
  }
  if (!parsed.username && !parsed.password && !parsed.search) return url;
  if (parsed.username || parsed.password) {
    parsed.username = '***';
    parsed.password = '';
  }
  for (const key of [...parsed.searchParams.keys()]) parsed.searchParams.set(key, '***');
  return parsed.toString();
}
