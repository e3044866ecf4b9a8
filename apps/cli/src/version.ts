// The version `fedtl --version` prints: the project's package.json (found from this file's folder upwards, so
// the sources and the built bundle read the same file).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findWorkspaceRoot } from '@fedtl/util';

/** The `version` of fedtl's package.json. */
export function fedtlVersion(): string {
  return (JSON.parse(readFileSync(join(findWorkspaceRoot(__dirname), 'package.json'), 'utf8')) as { version: string }).version;
}
