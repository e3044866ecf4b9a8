import fc from 'fast-check';
import { MIN_BOUND, boundText, escapeControlChars, quoteUntrusted } from './untrusted-text';

/** Characters a log line or a terminal must never receive raw from a peer. */
// eslint-disable-next-line no-control-regex -- the property is about control characters
const RAW_UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

describe('untrusted text', () => {
  it('escapes newlines, NUL, DEL, C1 controls and bidi overrides, and keeps other text as it is', () => {
    expect(escapeControlChars('a\nb\r\tc\u0000d\u007fe\u0085f\u202eg\u2066h')).toBe('a\\nb\\r\\tc\\u0000d\\u007fe\\u0085f\\u202eg\\u2066h');
    expect(escapeControlChars('réclamation 😀 日本')).toBe('réclamation 😀 日本');
  });

  it('cuts long text to the bound with a note of the full length', () => {
    const message = 'x'.repeat(900_000);
    const bounded = boundText(message, 1024);
    expect(bounded.length).toBeLessThanOrEqual(1024);
    expect(bounded).toMatch(/^x+…\[900000 chars\]$/);
    expect(boundText('short', 1024)).toBe('short');
  });

  it('never splits an escape or a surrogate pair when cutting', () => {
    expect(boundText('\n'.repeat(100), 30)).toMatch(/^(\\n)+…\[100 chars\]$/);
    expect(boundText('😀'.repeat(100), 30)).toMatch(/^(😀)+…\[200 chars\]$/);
  });

  it('quotes peer values so the quote cannot be closed early, within the bound', () => {
    expect(quoteUntrusted('org-"1"\n')).toBe('"org-\\"1\\"\\n"');
    expect(quoteUntrusted('a'.repeat(500), 40).length).toBeLessThanOrEqual(40);
    expect(quoteUntrusted(undefined)).toBe('undefined');
    expect(quoteUntrusted({ toString: () => 'evil\n' })).toBe('(object)');
  });

  it('refuses a bound too small to hold the note', () => {
    expect(() => boundText('abc', MIN_BOUND - 1)).toThrow(RangeError);
  });

  it('property: output never holds a raw control, bidi or lone surrogate character and never exceeds the bound', () => {
    const hostile = fc.string({ unit: fc.oneof(fc.constantFrom('\n', '\r', '\u0000', '\u202e', '\u2028', '\ud800', '\udc00', '"', '\\'), fc.integer({ min: 0, max: 0x10ffff }).map((c) => String.fromCodePoint(c)), fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c))) });
    fc.assert(
      fc.property(hostile, fc.integer({ min: MIN_BOUND + 2, max: 300 }), (text, bound) => {
        for (const out of [boundText(text, bound), quoteUntrusted(text, bound)]) {
          expect(out.length).toBeLessThanOrEqual(bound);
          expect(RAW_UNSAFE.test(out)).toBe(false);
          expect(LONE_SURROGATE.test(out)).toBe(false);
        }
        expect(RAW_UNSAFE.test(escapeControlChars(text))).toBe(false);
      }),
      { seed: 9, numRuns: 2000 },
    );
  });
});
