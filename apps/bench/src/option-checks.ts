// The checks a declaration cannot express on its own, shared by the suites' builders (DOMAINS' domainsOptionsFrom
// and the others): an option every run needs, a list without repeats, a list of positive numbers. Each throws
// FedtlError FEDTL_ERR_BAD_CONFIG naming the flag, what it expects and what came, as the declarations' own errors do.
import { statSync } from 'node:fs';
import { configError } from '@fedtl/util';

/** `value`, or FEDTL_ERR_BAD_CONFIG when the option was not given (no source had it and it has no default). */
export function required<T>(value: T | undefined, flag: string, expected: string): T {
  if (value === undefined) throw configError(flag, expected, value);
  return value;
}

/** Where a domains-family suite reads its data and writes its report: --data-dir and --out, both required. */
export function dataAndOut(v: { dataDir?: string; out?: string; domains?: string[] }): { dataDir: string; out: string; domains: string[] } {
  return {
    dataDir: required(v.dataDir, '--data-dir', 'a folder of DOMAIN.train.jsonl / DOMAIN.test.jsonl files'),
    out: required(v.out, '--out', 'an output folder'),
    domains: v.domains ?? [],
  };
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

/**
 * `path` when it names an existing file or folder, as `kind` asks: a path option is checked before its suite reads
 * it, so that a missing one is a FEDTL_ERR_BAD_CONFIG naming the flag and the path, not an ENOENT stack mid-run.
 */
export function existingPath(path: string, flag: string, kind: 'file' | 'folder' | 'file or folder'): string {
  const stats = statSync(path, { throwIfNoEntry: false });
  if (!stats) throw configError(flag, `an existing ${kind}`, path);
  if (kind === 'file' && !stats.isFile()) throw configError(flag, 'an existing file, not a folder', path);
  if (kind === 'folder' && !stats.isDirectory()) throw configError(flag, 'an existing folder, not a file', path);
  return path;
}
