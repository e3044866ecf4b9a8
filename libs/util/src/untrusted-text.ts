// Text that came from a peer (a client id, an error message, a tensor name) ends up in logs, metrics.jsonl and
// the status API. Quoted whole it can be megabytes long, and its control characters can forge a log line
// (a newline) or reorder what a terminal shows (bidi overrides). Every such quote goes through here: control
// and bidi characters are escaped, and the excerpt is cut to a bound with a note of the full length.

/** C0 and C1 controls, DEL, line/paragraph separators, bidi marks, embeddings, overrides and isolates. */
// eslint-disable-next-line no-control-regex -- finding control characters is this module's purpose
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/;
const SHORT_ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
/** The smallest bound that still leaves room for some text next to the truncation note. */
export const MIN_BOUND = 24;

/** `text` with control and bidi characters (and lone surrogates) written as `\n`, `\r`, `\t` or `\uXXXX`. */
export function escapeControlChars(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) out += escapedAt(text, i, (skip) => (i += skip));
  return out;
}

/**
 * `text` escaped as by escapeControlChars and cut to at most `maxChars` characters (counting the escapes and
 * the note): a cut text ends with `…[N chars]`, N being the original length. Never splits an escape or a
 * surrogate pair.
 * @throws RangeError when maxChars is below MIN_BOUND (24).
 */
export function boundText(text: string, maxChars: number): string {
  if (!Number.isInteger(maxChars) || maxChars < MIN_BOUND) throw new RangeError(`maxChars must be an integer >= ${MIN_BOUND}, got ${maxChars}`);
  const escaped = escapeControlChars(text);
  if (escaped.length <= maxChars) return escaped;
  const note = `…[${text.length} chars]`;
  const budget = maxChars - note.length;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const piece = escapedAt(text, i, (skip) => (i += skip));
    if (out.length + piece.length > budget) break;
    out += piece;
  }
  return out + note;
}

/**
 * A peer's value quoted for a message: `"…"` around boundText (inner quotes escaped, so the quote cannot be
 * closed early); non-strings are described by their type. At most `maxChars` characters in all (default 80).
 * @throws RangeError when maxChars is below MIN_BOUND + 2 (room for the quotes).
 */
export function quoteUntrusted(value: unknown, maxChars = 80): string {
  if (typeof value !== 'string') return value === null || value === undefined ? String(value) : `(${typeof value})`;
  return `"${boundText(value.replace(/"/g, '\\"'), maxChars - 2)}"`;
}

/** The escaped form of the character at `i`; `advance(1)` is called when a surrogate pair is consumed whole. */
function escapedAt(text: string, i: number, advance: (skip: number) => void): string {
  const char = text[i];
  const code = char.charCodeAt(0);
  if (code >= 0xd800 && code <= 0xdbff) {
    const next = text.charCodeAt(i + 1);
    if (next >= 0xdc00 && next <= 0xdfff) {
      advance(1);
      return char + text[i + 1];
    }
    return unicodeEscape(code);
  }
  if (code >= 0xdc00 && code <= 0xdfff) return unicodeEscape(code);
  if (!UNSAFE.test(char)) return char;
  return SHORT_ESCAPES[char] ?? unicodeEscape(code);
}

function unicodeEscape(code: number): string {
  return `\\u${code.toString(16).padStart(4, '0')}`;
}
