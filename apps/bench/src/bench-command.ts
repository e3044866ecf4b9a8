// The command line a report records, so that it can be pasted back into a shell and run again.

/** `word` as one POSIX shell word: as it is when it is safe, single-quoted otherwise (an empty one as ''). */
export function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** `npm run bench -- SUITE ARGS…`, each argument quoted as the shell needs. */
export function benchCommand(suite: string, argv: readonly string[]): string {
  return ['npm run bench --', suite, ...argv.map(shellWord)].join(' ');
}
