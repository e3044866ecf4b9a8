// The checks a declaration cannot express on its own, shared by the suites' builders (DOMAINS' domainsOptionsFrom
// and the others): an option every run needs, a list without repeats, a list of positive numbers. Each throws
// FedtlError FEDTL_ERR_BAD_CONFIG naming the flag, what it expects and what came, as the declarations' own errors do.
import { configError } from '@fedtl/util';

/** `value`, or FEDTL_ERR_BAD_CONFIG when the option was not given (no source had it and it has no default). */
export function required<T>(value: T | undefined, flag: string, expected: string): T {
  if (value === undefined) throw configError(flag, expected, value);
  return value;
}

/** `values` when no item repeats. */
export function distinct<T>(values: readonly T[], flag: string, expected: string): T[] {
  if (new Set(values).size !== values.length) throw configError(flag, expected, values.join(','));
  return [...values];
}

/** The items of a list option as finite numbers > 0 (the declarations have integer lists only). */
export function positiveNumbers(items: readonly string[], flag: string): number[] {
  return items.map((item) => {
    const n = Number(item);
    if (item.trim() === '' || !Number.isFinite(n) || n <= 0) throw configError(flag, 'a comma-separated list of numbers > 0', items.join(','));
    return n;
  });
}

/** The names of a list option that are all in `known`, in `known`'s order (the order of the report's rows). */
export function subsetOf<const K extends readonly string[]>(names: readonly string[], known: K, flag: string): Array<K[number]> {
  for (const name of names) if (!known.includes(name)) throw configError(flag, `a subset of ${known.join(',')}`, name);
  return known.filter((name) => names.includes(name));
}
