// The operator's words for an update compression (`--compression float32|float16|int8|topk:FRACTION`) and the
// plan's UpdateCompression (domain.ts), both ways. One spelling everywhere: the coordinator's flag, its
// --print-config, its logs and the benchmark's rows. Also a separate entry point, @fedtl/protocol/compression, that
// imports nothing at run time: option declarations use it without loading the protocol (--help starts fast).
import type { UpdateCompression } from './domain';

/** What `--compression` accepts, as its error message says it. */
export const UPDATE_COMPRESSION_SYNTAX = 'float32, float16, int8 or topk:FRACTION with FRACTION in (0, 1] (e.g. topk:0.01)';

/**
 * The compression `text` names, or undefined when it names none.
 * @param text `float32` (no compression), `float16`, `int8` or `topk:F` with F a decimal number in (0, 1]
 */
export function parseUpdateCompression(text: string): UpdateCompression | undefined {
  const word = text.trim().toLowerCase();
  if (word === 'float32') return { encoding: 'raw' };
  if (word === 'float16' || word === 'int8') return { encoding: word };
  const topk = /^topk:((\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?)$/.exec(word);
  if (!topk) return undefined;
  const fraction = Number(topk[1]);
  return fraction > 0 && fraction <= 1 ? { encoding: 'sparse', topkFraction: fraction } : undefined;
}

/** The operator's word for `compression`: `float32`, `float16`, `int8` or `topk:F`; absent reads as float32. */
export function formatUpdateCompression(compression: UpdateCompression | undefined): string {
  if (!compression || compression.encoding === 'raw') return 'float32';
  return compression.encoding === 'sparse' ? `topk:${compression.topkFraction}` : compression.encoding;
}

/**
 * The canonical word of a spelling `parseUpdateCompression` accepts (`TopK:0.010` -> `topk:0.01`, ` INT8` -> `int8`):
 * what option declarations normalise to, so that --print-config shows the compression the run uses.
 * @throws RangeError for text that names no compression (declarations check the syntax first).
 */
export function canonicalUpdateCompression(text: string): string {
  const compression = parseUpdateCompression(text);
  if (!compression) throw new RangeError(`canonicalUpdateCompression: expected ${UPDATE_COMPRESSION_SYNTAX}, got ${JSON.stringify(text)}`);
  return formatUpdateCompression(compression);
}
