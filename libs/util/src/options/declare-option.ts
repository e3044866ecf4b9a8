// One declaration per option: its type (a zod schema), default, allowed values, environment variable and help
// text, written once. The command line (commander), the environment, config files, --help and --print-config are
// all driven from it (resolve-options.ts, commander-options.ts, print-config.ts). The pattern follows
// OpenTelemetry JS's DEFAULT_ENVIRONMENT plus one parse loop.
import { z } from 'zod';

/** How text from a flag or an environment variable becomes a value before the schema checks it. */
export type OptionKind = 'string' | 'integer' | 'number' | 'boolean' | 'list' | 'choice';

export interface OptionDeclaration<T = unknown> {
  kind: OptionKind;
  /** Checks a value once it has its type; its failures are reported with `expected`. */
  schema: z.ZodType<T>;
  /** What is allowed, in words, as the error message says it: "an integer in [0, 65535]". */
  expected: string;
  help: string;
  default?: T;
  /** How --help shows a default that is computed rather than fixed ("one per core"). */
  defaultText?: string;
  /** The environment variable; absent: FEDTL_ and the key in SCREAMING_SNAKE_CASE; null: none. */
  env?: string | null;
  /** The placeholder of the value in --help (N, FILE, MS…). */
  valueName?: string;
  /** Never printed: --print-config and logs show it as redacted. */
  secret?: boolean;
  /** How --print-config shows a value that may hold a secret in part (a URL's credentials): `redactUrl`, say. */
  redact?(value: T): unknown;
  /**
   * The canonical form of a value the schema accepted (`TopK:0.010` -> `topk:0.01`): what the command runs with and
   * --print-config shows, whatever the spelling it came in.
   */
  normalize?(value: T): T;
  /** The heading it is listed under in --help. */
  group?: string;
  /** A list's items are integers (kind 'list' only). */
  integerItems?: boolean;
  /** A list's items are numbers (kind 'list' only). */
  numberItems?: boolean;
  /**
   * Refuse the flag given twice on one command line, where last-wins (the default, which lets a wrapper append an
   * override) would be dangerous: `token issue --client org-1 --client org-2` issuing org-2's token.
   */
  once?: boolean;
}

/** A command's options, by their camelCase key (the config file's key, and the flag in kebab-case). */
export type OptionDeclarations = Record<string, OptionDeclaration<unknown>>;

/** The value of each option once resolved: options without a default may be absent. */
export type OptionValues<D extends OptionDeclarations> = {
  [K in keyof D]: D[K] extends { default: infer V } ? V : (D[K] extends OptionDeclaration<infer T> ? T : never) | undefined;
};

interface Common<T> {
  help: string;
  redact?(value: T): unknown;
  normalize?(value: T): T;
  env?: string | null;
  valueName?: string;
  secret?: boolean;
  group?: string;
  defaultText?: string;
  default?: T;
  once?: boolean;
}

/** A declaration whose `default` is typed as present exactly when the caller gave one. */
type Declared<T, O> = OptionDeclaration<T> & (O extends { default: T } ? { default: T } : unknown);

function declare<T, O extends Common<T>>(options: O, kind: OptionKind, schema: z.ZodType<T>, expected: string, extra: Partial<OptionDeclaration<T>> = {}): Declared<T, O> {
  if (options.default !== undefined) {
    const checked = schema.safeParse(options.default);
    if (!checked.success) throw new RangeError(`option default ${JSON.stringify(options.default)} is not ${expected}`);
    if (options.normalize && JSON.stringify(options.normalize(checked.data)) !== JSON.stringify(options.default)) {
      throw new RangeError(`option default ${JSON.stringify(options.default)} is not in its canonical form ${JSON.stringify(options.normalize(checked.data))}`);
    }
  }
  return { ...options, ...extra, kind, schema, expected } as Declared<T, O>;
}

function range(min: number | undefined, max: number | undefined, minExclusive = false, maxExclusive = false): string {
  if (min !== undefined && max !== undefined) return `in ${minExclusive ? '(' : '['}${min}, ${max}${maxExclusive ? ')' : ']'}`;
  if (min !== undefined) return `${minExclusive ? '>' : '>='} ${min}`;
  if (max !== undefined) return `${maxExclusive ? '<' : '<='} ${max}`;
  return '';
}

export interface IntegerOptions extends Common<number> {
  min?: number;
  max?: number;
}

/** A safe integer in [min, max]. */
export function integerOption<const O extends IntegerOptions>(options: O): Declared<number, O> {
  const { min, max } = options;
  const bounds = range(min, max);
  const expected = `an integer${bounds ? ' ' + bounds : ''}`;
  let schema = z.number().int();
  if (min !== undefined) schema = schema.gte(min);
  if (max !== undefined) schema = schema.lte(max);
  return declare(options, 'integer', schema, expected, { valueName: options.valueName ?? 'N' });
}

export interface NumberOptions extends Common<number> {
  min?: number;
  max?: number;
  /** The bound itself is not allowed: (min, …) rather than [min, …]. */
  minExclusive?: boolean;
  maxExclusive?: boolean;
}

/** A finite number within the bounds. */
export function numberOption<const O extends NumberOptions>(options: O): Declared<number, O> {
  const { min, max, minExclusive = false, maxExclusive = false } = options;
  const bounds = range(min, max, minExclusive, maxExclusive);
  const expected = `a finite number${bounds ? ' ' + bounds : ''}`;
  let schema = z.number();
  if (min !== undefined) schema = minExclusive ? schema.gt(min) : schema.gte(min);
  if (max !== undefined) schema = maxExclusive ? schema.lt(max) : schema.lte(max);
  return declare(options, 'number', schema, expected, { valueName: options.valueName ?? 'X' });
}

export interface StringOptions extends Common<string> {
  /** The empty string is refused (default true). */
  nonEmpty?: boolean;
  /** A syntax of its own (`topk:0.01`): the text is refused unless this says yes, with `expected` as the reason. */
  accepts?: (text: string) => boolean;
  /** What `accepts` allows, in words, as the error message says it (required with `accepts`). */
  expected?: string;
}

export function stringOption<const O extends StringOptions>(options: O): Declared<string, O> {
  const nonEmpty = options.nonEmpty ?? true;
  const { accepts, expected, ...rest } = options;
  if (accepts) {
    if (!expected) throw new RangeError('a string option with `accepts` needs `expected`, the words its errors use');
    return declare(rest as O, 'string', z.string().refine(accepts), expected, { valueName: options.valueName ?? 'VALUE' });
  }
  return declare(rest as O, 'string', nonEmpty ? z.string().min(1) : z.string(), nonEmpty ? 'a non-empty string' : 'a string', {
    valueName: options.valueName ?? 'VALUE',
  });
}

/** A switch: `--name` turns it on; with `default: true`, `--no-name` turns it off. Absent means false. */
export function booleanOption<const O extends Common<boolean>>(options: O): Declared<boolean, O> & { default: boolean } {
  return declare({ ...options, default: options.default ?? false }, 'boolean', z.boolean(), 'true or false') as Declared<boolean, O> & { default: boolean };
}

/** One of a fixed set of words. */
export function choiceOption<const C extends readonly [string, ...string[]], const O extends Common<C[number]>>(choices: C, options: O): Declared<C[number], O> {
  return declare(options, 'choice', z.enum(choices) as unknown as z.ZodType<C[number]>, `one of ${choices.join('|')}`, {
    valueName: options.valueName ?? choices.join('|'),
  });
}

/**
 * A comma-separated list on the command line and in the environment, a list (or the same string) in a file. With
 * `acceptsItem`, every item must pass it (`expectedItem` says what an item is, for the error message).
 */
export function stringListOption<const O extends Common<string[]> & { minItems?: number; acceptsItem?: (item: string) => boolean; expectedItem?: string }>(options: O): Declared<string[], O> {
  const minItems = options.minItems ?? 1;
  const { acceptsItem, expectedItem, ...rest } = options;
  if (acceptsItem && !expectedItem) throw new RangeError('a list option with `acceptsItem` needs `expectedItem`, the words its errors use');
  const item = acceptsItem ? z.string().refine(acceptsItem) : z.string().min(1);
  const what = acceptsItem ? `item${minItems === 1 ? '' : 's'}, each ${expectedItem}` : `non-empty item${minItems === 1 ? '' : 's'}`;
  return declare(rest as O, 'list', z.array(item).min(minItems), `a comma-separated list of at least ${minItems} ${what}`, {
    valueName: options.valueName ?? 'A,B,…',
  });
}

/** A comma-separated list of finite numbers > 0 (learning rates, step sizes). */
export function positiveNumberListOption<const O extends Common<number[]> & { minItems?: number }>(options: O): Declared<number[], O> {
  const minItems = options.minItems ?? 1;
  return declare(options, 'list', z.array(z.number().gt(0)).min(minItems), 'a comma-separated list of numbers > 0', {
    valueName: options.valueName ?? 'X,X,…',
    numberItems: true,
  });
}

/** A comma-separated list of integers in [min, max] (min default 0; max: none). */
export function integerListOption<const O extends Common<number[]> & { minItems?: number; min?: number; max?: number }>(options: O): Declared<number[], O> {
  const minItems = options.minItems ?? 1;
  const min = options.min ?? 0;
  const { max } = options;
  const item = max === undefined ? z.number().int().gte(min) : z.number().int().gte(min).lte(max);
  return declare(options, 'list', z.array(item).min(minItems), `a comma-separated list of integers ${range(min, max)}`, {
    valueName: options.valueName ?? 'N,N,…',
    integerItems: true,
  });
}

/** The flag of a key: `minClients` -> `min-clients`. */
export function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

/** The environment variable of an option: its own, or FEDTL_ and the key in SCREAMING_SNAKE_CASE; null: none. */
export function envName(key: string, declaration: OptionDeclaration<unknown>): string | null {
  if (declaration.env !== undefined) return declaration.env;
  return 'FEDTL_' + flagName(key).replace(/-/g, '_').toUpperCase();
}

/**
 * The same declarations with their environment variables under `prefix` (FEDTL_DEMO_ROUNDS for the demo's
 * `rounds`), for a command whose options would otherwise share a variable with another command's.
 */
export function withEnvPrefix<D extends OptionDeclarations>(prefix: string, declarations: D): D {
  const renamed: Record<string, OptionDeclaration<unknown>> = {};
  for (const [key, declaration] of Object.entries(declarations)) {
    renamed[key] = declaration.env === null ? declaration : { ...declaration, env: prefix + flagName(key).replace(/-/g, '_').toUpperCase() };
  }
  return renamed as D;
}
