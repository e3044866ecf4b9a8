// Encodings of user files: every reader names a UTF-16/32 file or invalid UTF-8 (with the byte offset) and
// says to save it as UTF-8, instead of reading garbage. The UTF-16 bytes are those of the utf16-csv case
// (a spreadsheet's "Unicode text" export: UTF-16LE with a byte-order mark, CRLF line ends).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useTestSandbox } from '@fedtl/util/testing';
import { readCsv } from './csv';
import { readJsonl } from './jsonl';
import { readDataset } from './read-dataset';
import { decodeUserText, firstInvalidUtf8Offset, readUserText, readUserTextSync } from './text-file';

const CSV_TEXT = 'text,label\r\nPlease refund the duplicate charge 0,billing\r\nThe app freezes on the settings page 1,bug\r\n';
const JSONL_TEXT = '{"text": "Please refund the duplicate charge 0", "label": "billing"}\n';

function utf16be(text: string): Buffer {
  return Buffer.from(text, 'utf16le').swap16();
}
function utf32(text: string, littleEndian: boolean): Buffer {
  const points = [...text].map((c) => c.codePointAt(0) as number);
  const out = Buffer.alloc(points.length * 4);
  points.forEach((p, i) => (littleEndian ? out.writeUInt32LE(p, i * 4) : out.writeUInt32BE(p, i * 4)));
  return out;
}

/** Each foreign encoding as a spreadsheet or editor saves it: byte-order mark, then the text. */
function encodings(text: string): Array<[string, Buffer]> {
  return [
    ['UTF-16LE', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')])],
    ['UTF-16BE', Buffer.concat([Buffer.from([0xfe, 0xff]), utf16be(text)])],
    ['UTF-32LE', Buffer.concat([Buffer.from([0xff, 0xfe, 0, 0]), utf32(text, true)])],
    ['UTF-32BE', Buffer.concat([Buffer.from([0, 0, 0xfe, 0xff]), utf32(text, false)])],
  ];
}

describe('user text files', () => {
  const sandbox = useTestSandbox();
  const fixture = (name: string, bytes: Buffer): string => {
    const path = join(sandbox.dir, name);
    writeFileSync(path, bytes);
    return path;
  };
  const readers: Array<[string, string, string, (path: string) => Promise<unknown>]> = [
    ['readCsv', '.csv', CSV_TEXT, readCsv],
    ['readJsonl', '.jsonl', JSONL_TEXT, readJsonl],
    ['readDataset (.tsv)', '.tsv', CSV_TEXT.replace(/,/g, '\t'), readDataset],
    ['readUserText', '.json', JSONL_TEXT, readUserText],
    ['readUserTextSync', '.json', JSONL_TEXT, async (path) => readUserTextSync(path)],
  ];

  it('reads the utf16-csv case as a named encoding error, not as missing columns', async () => {
    const path = fixture('tickets.csv', encodings(CSV_TEXT)[0][1]);
    const refusal = readCsv(path);
    await expect(refusal).rejects.toMatchObject({ code: 'FEDTL_ERR_BAD_ENCODING', details: { file: path, encoding: 'UTF-16LE' } });
    await expect(refusal).rejects.toThrow(`${path}: expected a UTF-8 text file, but it is UTF-16LE`);
    await expect(refusal).rejects.toThrow(/Save it as UTF-8/);
  });

  describe.each(readers)('%s', (_name, extension, text, read) => {

    it.each(encodings(text))('refuses %s with a byte-order mark, naming the encoding', async (encoding, bytes) => {
      const path = fixture(`data${extension}`, bytes);
      await expect(read(path)).rejects.toMatchObject({ code: 'FEDTL_ERR_BAD_ENCODING', details: { encoding } });
    });

    it('refuses invalid UTF-8, naming the byte offset of the first bad sequence', async () => {
      const good = Buffer.from(text);
      // Latin-1 "é" (0xE9) where UTF-8 needs two bytes: what an editor saving "ANSI" writes.
      const path = fixture(`data${extension}`, Buffer.concat([good.subarray(0, 20), Buffer.from([0xe9]), good.subarray(20)]));
      await expect(read(path)).rejects.toMatchObject({ code: 'FEDTL_ERR_BAD_ENCODING', details: { offset: 20 } });
      await expect(read(path)).rejects.toThrow(/first invalid byte sequence is at byte offset 20\. Save it as UTF-8/);
    });

    it('accepts UTF-8 with and without a byte-order mark', async () => {
      const path = fixture(`data${extension}`, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]));
      const withBom = await read(path);
      fixture(`data${extension}`, Buffer.from(text));
      expect(await read(path)).toEqual(withBom);
    });
  });

  it('names the offset of invalid UTF-8 far into a file read as a stream', async () => {
    const head = Buffer.from('text,label\n' + 'a,b\n'.repeat(50_000));
    const path = fixture('big.csv', Buffer.concat([head, Buffer.from([0xc3, 0x28]), Buffer.from(',b\n')]));
    await expect(readCsv(path)).rejects.toMatchObject({ code: 'FEDTL_ERR_BAD_ENCODING', details: { offset: head.length } });
  });

  it('refuses UTF-16 without a byte-order mark by its NUL bytes', () => {
    expect(() => decodeUserText(Buffer.from('text,label\n', 'utf16le'), 'x.csv')).toThrow(/NUL byte at byte offset 1/);
  });

  it('finds the first invalid UTF-8 sequence as the WHATWG decoder defines it', () => {
    const cases: Array<[number[], number]> = [
      [[0x61, 0xc3, 0xa9], 3], // valid: a é
      [[0x61, 0xc0, 0xaf], 1], // overlong "/"
      [[0xed, 0xa0, 0x80], 0], // a UTF-16 surrogate
      [[0xf4, 0x90, 0x80, 0x80], 0], // above U+10FFFF
      [[0x61, 0x62, 0xe2, 0x82], 2], // truncated at the end
      [[0x80], 0], // a stray continuation byte
    ];
    for (const [bytes, offset] of cases) {
      const valid = (() => {
        try {
          new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes));
          return true;
        } catch {
          return false;
        }
      })();
      expect([bytes, firstInvalidUtf8Offset(Uint8Array.from(bytes)), valid]).toEqual([bytes, offset, offset === bytes.length]);
    }
  });
});
