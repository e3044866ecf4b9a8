// Merges a command's options from their four sources, each value checked by its one declaration.
// Precedence: command-line flag > environment variable > config file > default. A bad value is a
// FEDTL_ERR_BAD_CONFIG that names where it came from, what came and what is allowed.
import { FedtlError } from '../errors';
import type { ConfigFile } from './config-file';
import { envName, flagName, type OptionDeclaration, type OptionDeclarations, type OptionValues } from './declare-option';

export type OptionSource = 'flag' | 'env' | 'file' | 'default';

export interface OptionInput {
  /** What the command line gave, by key: the text of a value, or true/false for a switch. */
  flags: Record<string, string | boolean | undefined>;
  /** The environment (process.env at an app's edge; a plain object in tests). Empty values count as unset. */
  env: Record<string, string | undefined>;
  file?: ConfigFile;
}

export interface ResolvedOptions<D extends OptionDeclarations> {
  values: OptionValues<D>;
  /** Where each value came from; absent for options without a value. */
  sources: Partial<Record<keyof D & string, OptionSource>>;
}

/**
 * The value of every declared option, from `input` by precedence (flag > env > file > default).
 * @throws FedtlError FEDTL_ERR_BAD_CONFIG for the first value that its declaration refuses, naming the flag, the
 *   environment variable or the file and key it came from, the value and what is allowed.
 */
export function resolveOptions<D extends OptionDeclarations>(declarations: D, input: OptionInput): ResolvedOptions<D> {
  const values: Record<string, unknown> = {};
  const sources: Partial<Record<string, OptionSource>> = {};
  for (const [key, declaration] of Object.entries(declarations)) {
    const found = pick(key, declaration, input);
    if (!found) {
      if (declaration.default !== undefined) {
        values[key] = declaration.default;
        sources[key] = 'default';
      }
      continue;
    }
    const value = coerce(declaration, found.raw);
    const checked = declaration.schema.safeParse(value);
    if (!checked.success) {
      throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `${found.where}: expected ${declaration.expected}, got ${shown(found.raw)}`, { option: key, source: found.source });
    }
    values[key] = declaration.normalize ? declaration.normalize(checked.data) : checked.data;
    sources[key] = found.source;
  }
  return { values: values as OptionValues<D>, sources: sources as ResolvedOptions<D>['sources'] };
}

/** The highest-precedence source that gives `key` a value, with how an error names it. */
function pick(key: string, declaration: OptionDeclaration<unknown>, input: OptionInput): { raw: unknown; source: OptionSource; where: string } | undefined {
  const flag = input.flags[key];
  if (flag !== undefined) return { raw: flag, source: 'flag', where: `--${flagName(key)}` };
  const variable = envName(key, declaration);
  const fromEnv = variable === null ? undefined : input.env[variable];
  if (fromEnv !== undefined && fromEnv !== '') return { raw: fromEnv, source: 'env', where: `${variable} (environment)` };
  const file = input.file;
  if (file && Object.prototype.hasOwnProperty.call(file.values, key)) return { raw: file.values[key], source: 'file', where: `${file.path}: ${key}` };
  return undefined;
}

const BOOLEAN_WORDS: Record<string, boolean> = { true: true, false: false, '1': true, '0': false, yes: true, no: false, on: true, off: false };

/** A value as an error message quotes it: JSON, except numbers JSON cannot write (a YAML `.inf` is Infinity, not null). */
function shown(raw: unknown): string {
  return typeof raw === 'number' && !Number.isFinite(raw) ? String(raw) : JSON.stringify(raw);
}

/**
 * Text (a flag, an environment variable, a string in a file) as the value its kind expects; anything that does not
 * read as one is returned unchanged, for the schema to refuse.
 */
function coerce(declaration: OptionDeclaration<unknown>, raw: unknown): unknown {
  switch (declaration.kind) {
    case 'integer':
    case 'number':
      return typeof raw === 'string' ? textToNumber(raw) : raw;
    case 'boolean':
      return typeof raw === 'string' && Object.prototype.hasOwnProperty.call(BOOLEAN_WORDS, raw.trim().toLowerCase()) ? BOOLEAN_WORDS[raw.trim().toLowerCase()] : raw;
    case 'list': {
      const items = typeof raw === 'string' ? raw.split(',').map((item) => item.trim()) : raw;
      if (!Array.isArray(items)) return raw;
      return declaration.integerItems || declaration.numberItems ? items.map((item) => (typeof item === 'string' ? textToNumber(item) : item)) : items.map((item) => (typeof item === 'number' ? String(item) : item));
    }
    case 'string':
    case 'choice':
      return typeof raw === 'number' ? String(raw) : raw;
  }
}

/** "8080" -> 8080, " 1e-5 " -> 0.00001; "", "abc", "0x10" stay text (refused by the schema with what came). */
function textToNumber(text: string): number | string {
  const trimmed = text.trim();
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(trimmed)) return text;
  return Number(trimmed);
}

/** How a source ranks: the command line over the environment over a config file over the default. */
export const SOURCE_RANK: Readonly<Record<OptionSource, number>> = { flag: 3, env: 2, file: 1, default: 0 };

/**
 * Of two options that set the same thing two ways (`--token` and `--token-file`), the one that counts: the one
 * set, or the one from the higher-precedence source when both are; undefined when neither is.
 * @throws FedtlError FEDTL_ERR_BAD_CONFIG when both come from the same source, since one would be silently ignored.
 */
export function preferredOf<D extends OptionDeclarations, K extends keyof D & string>(resolved: ResolvedOptions<D>, first: K, second: K): K | undefined {
  const values = resolved.values as Record<string, unknown>;
  if (values[first] === undefined) return values[second] === undefined ? undefined : second;
  if (values[second] === undefined) return first;
  const rankFirst = SOURCE_RANK[resolved.sources[first] ?? 'default'];
  const rankSecond = SOURCE_RANK[resolved.sources[second] ?? 'default'];
  if (rankFirst === rankSecond) throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `--${flagName(first)}/--${flagName(second)}: expected one of them, got "both"`);
  return rankFirst > rankSecond ? first : second;
}

/**
 * Whether `key` was set on purpose for this command: on its command line or in its config file, to something else
 * than the default. Environment variables do not count: one shell's FEDTL_* reach every command it starts, so a
 * check such as "this option needs that one" must not fire on them. (--print-config writes every default into the
 * file it prints; that file must read back.)
 */
export function isSetExplicitly<D extends OptionDeclarations>(resolved: ResolvedOptions<D>, declarations: D, key: keyof D & string): boolean {
  const source = resolved.sources[key];
  if (source !== 'flag' && source !== 'file') return false;
  return JSON.stringify((resolved.values as Record<string, unknown>)[key]) !== JSON.stringify(declarations[key].default);
}
