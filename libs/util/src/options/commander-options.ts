// The declarations as commander options: flags and --help come from the same declaration that validates the
// value (commander parses the command line; resolve-options.ts validates and merges). Every command also gets
// --config FILE and --print-config.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { FedtlError } from '../errors';
import { parseConfigFile } from './config-file';
import { envName, flagName, type OptionDeclaration, type OptionDeclarations } from './declare-option';
import { formatConfig } from './print-config';
import { resolveOptions, type ResolvedOptions } from './resolve-options';

const RESERVED = new Set(['config', 'printConfig', 'help', 'version']);
const CONFIGURATION_GROUP = 'Configuration:';
/** The environment variable that names a config file when --config does not. */
export const CONFIG_FILE_ENV = 'FEDTL_CONFIG';

/**
 * Adds one commander option per declaration (the last of a repeated flag wins, except for declarations marked
 * `once`), then --config and --print-config.
 * @throws Error for a programmer error: a reserved key, or a key whose flag commander would name differently.
 */
export function addDeclaredOptions(command: Command, declarations: OptionDeclarations): Command {
  for (const [key, declaration] of Object.entries(declarations)) {
    if (RESERVED.has(key)) throw new Error(`option key "${key}" is reserved`);
    const flag = flagName(key);
    const option =
      declaration.kind === 'boolean'
        ? new Option(declaration.default === true ? `--no-${flag}` : `--${flag}`, describe(key, declaration))
        : new Option(`--${flag} <${declaration.valueName ?? 'VALUE'}>`, describe(key, declaration));
    if (declaration.once && declaration.kind !== 'boolean') option.argParser(onceOnly(flag));
    if (option.attributeName() !== key) throw new Error(`option key "${key}" has the flag --${flag}, which commander reads as "${option.attributeName()}"`);
    if (declaration.group) option.helpGroup(declaration.group);
    command.addOption(option);
    // The other form too, out of --help: `--no-fresh` must be able to undo `fresh: true` from a config file.
    if (declaration.kind === 'boolean') command.addOption(new Option(declaration.default === true ? `--${flag}` : `--no-${flag}`).hideHelp());
  }
  command.addOption(new Option('--config <FILE>', `read options from a YAML or JSON file: camelCase keys, the same names and values as the flags (env ${CONFIG_FILE_ENV})`).helpGroup(CONFIGURATION_GROUP));
  command.addOption(new Option('--print-config', 'print the merged configuration as YAML (secrets redacted, each value with its source) and exit').helpGroup(CONFIGURATION_GROUP));
  return command;
}

export interface LoadedOptions<D extends OptionDeclarations> extends ResolvedOptions<D> {
  /** --print-config was given: print `printed` and exit instead of running. */
  printConfig: boolean;
  /** The merged configuration as --print-config shows it. */
  printed: string;
}

/**
 * The command's options after commander has parsed its command line: flags given there, then `env`, then the
 * --config file (read with `readText`, the app's own reader), then defaults.
 * @throws FedtlError FEDTL_ERR_BAD_CONFIG (see resolveOptions and parseConfigFile).
 */
export function loadDeclaredOptions<D extends OptionDeclarations>(
  command: Command,
  declarations: D,
  env: Record<string, string | undefined>,
  readText: (path: string) => string,
): LoadedOptions<D> {
  const flags: Record<string, string | boolean | undefined> = {};
  for (const key of Object.keys(declarations)) {
    if (command.getOptionValueSource(key) === 'cli') flags[key] = command.getOptionValue(key) as string | boolean;
  }
  const configPath = (command.getOptionValue('config') as string | undefined) ?? (env[CONFIG_FILE_ENV] || undefined);
  let file;
  if (configPath !== undefined) {
    let text: string;
    try {
      text = readText(configPath);
    } catch (err) {
      if (err instanceof FedtlError) throw err;
      throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `--config: expected a readable YAML or JSON file, got ${configPath} (${(err as Error).message})`);
    }
    file = parseConfigFile(text, configPath, declarations);
  }
  const resolved = resolveOptions(declarations, { flags, env, file });
  return { ...resolved, printConfig: command.getOptionValue('printConfig') === true, printed: formatConfig(declarations, resolved) };
}

function describe(key: string, declaration: OptionDeclaration<unknown>): string {
  const notes: string[] = [];
  if (declaration.defaultText !== undefined) notes.push(`default ${declaration.defaultText}`);
  else if (declaration.default !== undefined && declaration.kind !== 'boolean' && !declaration.secret) notes.push(`default ${formatDefault(declaration.default)}`);
  const variable = envName(key, declaration);
  if (variable !== null) notes.push(`env ${variable}`);
  return notes.length > 0 ? `${declaration.help} (${notes.join('; ')})` : declaration.help;
}

function formatDefault(value: unknown): string {
  return Array.isArray(value) ? value.join(',') : String(value);
}

function onceOnly(flag: string): (value: string, previous: unknown) => string {
  return (value, previous) => {
    if (previous !== undefined) throw new InvalidArgumentError(`--${flag} was given twice (${JSON.stringify(previous)}, then ${JSON.stringify(value)}): give it once`);
    return value;
  };
}

/**
 * Parses `argv` (without node and the script) against `declarations` exactly as a `fedtl` subcommand does, for
 * tests and programs that build a configuration from a command line.
 * @throws FedtlError FEDTL_ERR_BAD_CONFIG for what commander refuses (an unknown flag, a missing value, a flag
 *   given twice, --help) and for every error of loadDeclaredOptions.
 */
export function parseCommandLine<D extends OptionDeclarations>(
  declarations: D,
  argv: readonly string[],
  env: Record<string, string | undefined>,
  readText: (path: string) => string,
): LoadedOptions<D> {
  const command = addDeclaredOptions(new Command('fedtl'), declarations)
    .exitOverride()
    .configureOutput({ writeOut: () => undefined, writeErr: () => undefined });
  try {
    command.parse(argv as string[], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `command line: ${commanderMessage(err)}`);
    throw err;
  }
  return loadDeclaredOptions(command, declarations, env, readText);
}

/** Commander's message on one line, without its "error: " prefix. */
export function commanderMessage(err: CommanderError): string {
  return err.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ').trim();
}
