// Comparing shared secrets (federation tokens) in constant time, so a client cannot learn a token
// byte by byte from how long a refusal takes.
import { createHash, timingSafeEqual } from 'node:crypto';

export function secretsEqual(given: string, expected: string): boolean {
  // Hashing first gives equal lengths, so not even the token's length leaks.
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
