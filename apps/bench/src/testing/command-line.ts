// A suite's options from a command line, exactly as `fedtl bench SUITE ARGV…` resolves them, for tests.
import { readFileSync } from 'node:fs';
import { parseCommandLine, type LoadedOptions, type OptionDeclarations } from '@fedtl/util/options';

/** `argv` against `declarations` (flags > `env` > --config file > defaults), files read from disk. */
export function commandLine<D extends OptionDeclarations>(declarations: D, argv: readonly string[], env: Record<string, string | undefined> = {}): LoadedOptions<D> {
  return parseCommandLine(declarations, argv, env, (path) => readFileSync(path, 'utf8'));
}
