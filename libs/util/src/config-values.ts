// Validation of configuration values at an app's edge (flags, env, files). Each failure is a
// FEDTL_ERR_BAD_CONFIG that names the option, what it expects and what came.
import { FedtlError } from './errors';

export function configError(name: string, expected: string, got: unknown): FedtlError {
  return new FedtlError('FEDTL_ERR_BAD_CONFIG', `${name}: expected ${expected}, got ${JSON.stringify(got)}`);
}

/** An integer in [min, max]; past 2^53 − 1 integers are not exact, so that is the bound without `max`. */
export function parseInteger(name: string, value: string | number, min: number, max?: number): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(n) || n < min || (max !== undefined && n > max)) {
    throw configError(name, max === undefined ? `an integer >= ${min}` : `an integer in [${min}, ${max}]`, value);
  }
  return n;
}

/** A finite number in (0, max]. */
export function parsePositiveNumber(name: string, value: string | number, max = Infinity): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > max) throw configError(name, max === Infinity ? 'a positive finite number' : `a number in (0, ${max}]`, value);
  return n;
}

export function parseOneOf<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) throw configError(name, `one of ${allowed.join('|')}`, value);
  return value as T;
}

/** A comma-separated list of integers, e.g. `50,200,1600`. */
export function parseIntegerList(name: string, value: string, min: number): number[] {
  const parts = value.split(',').map((part) => part.trim());
  if (parts.length === 0 || parts.some((part) => part === '')) throw configError(name, 'a comma-separated list of integers', value);
  return parts.map((part) => parseInteger(name, part, min));
}

/**
 * Refuses an option given twice on one command line, for commands where the last-wins convention of node:util's
 * parseArgs would be dangerous (`token issue --client org-1 --client org-2` issuing org-2's token). `options` are the option names without dashes; `--name value` and
 * `--name=value` both count. Nothing after a lone `--` is looked at.
 * @throws FedtlError FEDTL_ERR_BAD_CONFIG naming the option and how often it came.
 */
export function refuseRepeatedOptions(argv: readonly string[], options: Iterable<string>): void {
  const end = argv.indexOf('--');
  const args = end === -1 ? argv : argv.slice(0, end);
  for (const name of options) {
    const times = args.filter((arg) => arg === `--${name}` || arg.startsWith(`--${name}=`)).length;
    if (times > 1) throw configError(`--${name}`, 'it once', `${times} times`);
  }
}
