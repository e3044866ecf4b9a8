// The command line a report records, so that it can be pasted back into a shell and run again: rebuilt from the
// resolved options, every value that did not come from its default written as its flag, so a value from a
// --config file is recorded too.
import { flagName, type OptionDeclarations, type ResolvedOptions } from '@fedtl/util/options';

/** `word` as one POSIX shell word: as it is when it is safe, single-quoted otherwise (an empty one as ''). */
export function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** `fedtl bench SUITE --flag value…`: each option not at its default, in declaration order, quoted as the shell needs. */
export function benchCommand<D extends OptionDeclarations>(suite: string, declarations: D, resolved: ResolvedOptions<D>): string {
  const words = ['fedtl', 'bench', suite];
  const values = resolved.values as Record<string, unknown>;
  for (const [key, declaration] of Object.entries(declarations)) {
    const value = values[key];
    if (value === undefined || resolved.sources[key as keyof D & string] === 'default') continue;
    const flag = flagName(key);
    if (declaration.kind === 'boolean') {
      if (value !== (declaration.default ?? false)) words.push(value ? `--${flag}` : `--no-${flag}`);
      continue;
    }
    words.push(`--${flag}`, shellWord(Array.isArray(value) ? value.join(',') : String(value)));
  }
  return words.join(' ');
}
