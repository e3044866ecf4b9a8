// --print-config: the merged options as a YAML config file, each value's source in a comment, secrets redacted.
// Without its secrets the output is a valid --config file for the same command.
import { Document, isMap, isScalar, isSeq, type Pair } from 'yaml';
import { envName, flagName, type OptionDeclarations } from './declare-option';
import type { ResolvedOptions } from './resolve-options';

/** The resolved options of `declarations` as YAML; secret values never appear, only that they are set and where from. */
export function formatConfig<D extends OptionDeclarations>(declarations: D, resolved: ResolvedOptions<D>): string {
  const shown: Record<string, unknown> = {};
  const redacted: string[] = [];
  for (const [key, declaration] of Object.entries(declarations)) {
    const value = (resolved.values as Record<string, unknown>)[key];
    if (value === undefined) continue;
    if (declaration.secret) redacted.push(`# ${key}: [redacted] (set, from ${describeSource(key, declarations, resolved)})`);
    else shown[key] = declaration.redact ? declaration.redact(value) : value;
  }
  const document = new Document(shown);
  if (isMap(document.contents)) {
    for (const pair of document.contents.items as Pair[]) {
      const key = String(isScalar(pair.key) ? pair.key.value : pair.key);
      // Lists on one line, as they are written on the command line, so that the source comment follows them.
      if (isSeq(pair.value)) pair.value.flow = true;
      if (isScalar(pair.value) || pair.value) (pair.value as { comment?: string }).comment = ` ${describeSource(key, declarations, resolved)}`;
    }
  }
  const body = Object.keys(shown).length > 0 ? document.toString({ lineWidth: 0 }) : '{}\n';
  return body + (redacted.length > 0 ? redacted.join('\n') + '\n' : '');
}

function describeSource<D extends OptionDeclarations>(key: string, declarations: D, resolved: ResolvedOptions<D>): string {
  const source = resolved.sources[key as keyof D & string];
  if (source === 'flag') return `flag --${flagName(key)}`;
  if (source === 'env') return `environment ${envName(key, declarations[key])}`;
  if (source === 'file') return 'config file';
  return 'default';
}
