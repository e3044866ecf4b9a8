// How one fedtl process starts another (the demo its coordinator and clients, a benchmark its federations): the
// same `fedtl` it runs itself — the built bundle when it is the bundle, the TypeScript sources under tsx when it
// runs from them (development and tests).
import { join, resolve } from 'node:path';

/**
 * The arguments after `process.execPath` that run `fedtl ARGS…` from the same code as this process: for the
 * bundle `[dist/fedtl/main.js, …args]`, for the sources `[--import, tsx, apps/cli/src/main.ts, …args]`.
 */
export function fedtlProcessArgs(args: readonly string[]): string[] {
  // This file is bundled into dist/fedtl/main.js (then __dirname is dist/fedtl) or runs as libs/util/src/*.ts.
  const fromSources = __filename.endsWith('.ts');
  const entry = fromSources ? resolve(__dirname, '..', '..', '..', 'apps', 'cli', 'src', 'main.ts') : join(__dirname, 'main.js');
  return fromSources ? ['--import', 'tsx', entry, ...args] : [entry, ...args];
}
