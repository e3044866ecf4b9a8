// How one fedtl process starts another (the demo its coordinator and clients, a benchmark its federations): the
// same `fedtl` it runs itself — the built bundle when it is the bundle, the TypeScript sources under tsx when it
// runs from them (development and tests).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * When set to a built `main.js`, processes started from the sources run that bundle instead of the sources under
 * tsx. The e2e tests set it to a bundle they build from the same sources first, since compiling every coordinator
 * and client on the fly costs about a second of CPU each.
 */
export const BUILT_ENTRY_ENV = 'FEDTL_BUILT_ENTRY';

/**
 * The arguments after `process.execPath` that run `fedtl ARGS…` from the same code as this process: for the
 * bundle `[dist/fedtl/main.js, …args]`, for the sources `[--import, tsx, apps/cli/src/main.ts, …args]`.
 */
export function fedtlProcessArgs(args: readonly string[]): string[] {
  const built = process.env[BUILT_ENTRY_ENV];
  if (built) return [built, ...args];
  // This file is bundled into dist/fedtl/main.js (then __dirname is dist/fedtl) or runs as libs/util/src/*.ts.
  const fromSources = __filename.endsWith('.ts');
  const entry = fromSources ? resolve(__dirname, '..', '..', '..', 'apps', 'cli', 'src', 'main.ts') : join(__dirname, 'main.js');
  return fromSources ? ['--import', 'tsx', entry, ...args] : [entry, ...args];
}

/**
 * The checkout's (or installed package's) root: the nearest folder above `from` whose package.json is named
 * "fedtl". Found by walking up, so that it is the same from the sources and from the bundle (dist/fedtl).
 * @throws Error when no such folder is above `from`.
 */
export function findWorkspaceRoot(from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === 'fedtl') return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json named "fedtl" in ${from} or above it`);
  }
}
