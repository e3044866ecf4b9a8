// Config files: YAML or JSON (JSON is YAML 1.2), one mapping whose keys are the options' camelCase names, the
// same schema as the command line for every command. Unknown keys are refused with the closest valid name.
import { closest } from 'fastest-levenshtein';
import { parseDocument } from 'yaml';
import { FedtlError } from '../errors';
import type { OptionDeclarations } from './declare-option';

export interface ConfigFile {
  /** As the user named it, for error messages. */
  path: string;
  values: Record<string, unknown>;
}

/**
 * Reads a config file's text (the app reads the file; this never touches the disk).
 * @throws FedtlError FEDTL_ERR_BAD_CONFIG for a syntax error (with line and column), a document that is not a
 *   mapping, a repeated key, or an unknown key (naming the closest option of `declarations`).
 */
export function parseConfigFile(text: string, path: string, declarations: OptionDeclarations): ConfigFile {
  const document = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (document.errors.length > 0) {
    const first = document.errors[0];
    throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `${path}: expected a YAML or JSON mapping of options, got a syntax error: ${first.message.split('\n')[0]}`);
  }
  let parsed: unknown;
  try {
    parsed = document.toJS();
  } catch (err) {
    // yaml's own guard against alias bombs ("billion laughs"), among others.
    throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `${path}: expected a YAML or JSON mapping of options, got a document yaml refuses to expand: ${(err as Error).message}`);
  }
  if (parsed === null || parsed === undefined) return { path, values: {} };
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `${path}: expected a mapping of option names to values, got ${Array.isArray(parsed) ? 'a list' : JSON.stringify(parsed)}`);
  }
  const known = Object.keys(declarations);
  for (const key of Object.keys(parsed)) {
    if (key === 'config' || key === 'printConfig') {
      throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `${path}: "${key}" is a command-line flag, not an option a config file can set`);
    }
    if (!Object.prototype.hasOwnProperty.call(declarations, key)) {
      const suggestion = known.length > 0 ? ` (did you mean "${closest(key, known)}"?)` : '';
      throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `${path}: unknown option "${key}"${suggestion}; keys are the options' camelCase names, see --help`);
    }
  }
  return { path, values: parsed as Record<string, unknown> };
}
