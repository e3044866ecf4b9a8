import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FedtlError } from '@fedtl/util';
import { useTestSandbox } from '@fedtl/util/testing';
import { readCsv } from './csv';
import { csvRecords } from './csv-records';

describe('readCsv', () => {
  const sandbox = useTestSandbox();
  const fixture = (name: string, content: string): string => {
    const path = join(sandbox.dir, name);
    writeFileSync(path, content);
    return path;
  };
  const rejection = async (promise: Promise<unknown>): Promise<FedtlError> => {
    const err = await promise.then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(FedtlError);
    return err as FedtlError;
  };

  it('handles quoted delimiters, doubled quotes, line breaks inside quotes, CRLF and a BOM', async () => {
    const path = fixture(
      'tricky.csv',
      '\uFEFFid,text,label\r\n' +
        '1,"hello, world",greeting\r\n' +
        '2,"she said ""hi""",quote\r\n' +
        '3,"line one\r\nline two",multi\r\n' +
        '4,a 12" record,literal\r\n' +
        '5,"",empty\r\n',
    );
    const { examples, badRows } = await readCsv(path, { onBadRow: 'skip' });
    expect(examples).toEqual([
      { id: '1', text: 'hello, world', label: 'greeting' },
      { id: '2', text: 'she said "hi"', label: 'quote' },
      { id: '3', text: 'line one\nline two', label: 'multi' },
      { id: '4', text: 'a 12" record', label: 'literal' },
    ]);
    expect(badRows).toEqual([
      { file: path, line: 7, reason: 'expected a non-empty string field "text", got a blank one' },
    ]);
  });

  it('numbers records by the line they start on, past multi-line fields and blank lines', async () => {
    const path = fixture(
      'lines.csv',
      'text,label\n"first\n\nstill first",a\n\nsecond,b,extra\n"third\nspans",c\nfourth\n',
    );
    const { examples, badRows } = await readCsv(path, { onBadRow: 'skip' });
    expect(examples.map(({ id, label }) => [id, label])).toEqual([
      ['lines.csv:2', 'a'],
      ['lines.csv:7', 'c'],
    ]);
    expect(badRows.map(({ line, reason }) => [line, reason])).toEqual([
      [6, 'expected 2 fields as in the header, got 3'],
      [9, 'expected 2 fields as in the header, got 1'],
    ]);
  });

  it('reads TSV by extension and custom column names', async () => {
    const path = fixture('tickets.tsv', 'ticket\tbody\tqueue\nT1\tprinter, "jammed"\tit\nT2\t"tab\tinside"\thr\n');
    const { examples } = await readCsv(path, { textField: 'body', labelField: 'queue', idField: 'ticket' });
    expect(examples).toEqual([
      { id: 'T1', text: 'printer, "jammed"', label: 'it' },
      { id: 'T2', text: 'tab\tinside', label: 'hr' },
    ]);
  });

  it('refuses a header that names a column twice', async () => {
    const path = fixture('twice.csv', 'text,label,text\nhello,x,world\n');
    const err = await rejection(readCsv(path));
    expect(err.message).toBe(`${path}:1: the header names column "text" twice; expected distinct column names`);
  });

  it('takes an explicit delimiter for other extensions and refuses to guess one', async () => {
    const path = fixture('pipes.txt', 'text|label\nhello|x\n');
    expect((await readCsv(path, { delimiter: '|' })).examples).toEqual([{ id: 'pipes.txt:2', text: 'hello', label: 'x' }]);
    await expect(readCsv(path)).rejects.toThrow(/cannot infer the delimiter/);
    await expect(readCsv(path, { delimiter: '"' })).rejects.toThrow(RangeError);
  });

  it('throws at the first bad row by default, with file and line', async () => {
    const path = fixture('bad.csv', 'text,label\nfine,x\n"oops"tail,y\n');
    const err = await rejection(readCsv(path));
    expect(err.code).toBe('FEDTL_ERR_BAD_DATA');
    expect(err.message).toBe(`${path}:3: unexpected "t" after the closing quote of field 1`);
  });

  it('reports a quoted field that is never closed on the line it opens', async () => {
    const path = fixture('unclosed.csv', 'text,label\nfine,x\n"never closed,y\nmore,z\n');
    const { examples, badRows } = await readCsv(path, { onBadRow: 'skip' });
    expect(examples).toHaveLength(1);
    expect(badRows).toEqual([{ file: path, line: 3, reason: 'the quoted field 1 is never closed' }]);
  });

  it('requires a header with the text and label columns', async () => {
    const missing = fixture('no-label.csv', 'id,text\n1,hello\n');
    expect((await rejection(readCsv(missing))).message).toBe(
      `${missing}:1: the header has no column "label" (columns: "id", "text")`,
    );
    const empty = fixture('empty.csv', '');
    expect((await rejection(readCsv(empty))).message).toBe(`${empty}:1: the file is empty, expected a header row`);
  });
});

describe('csvRecords', () => {
  async function* chunked(text: string, size: number): AsyncGenerator<string> {
    for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
  }
  const collect = async (text: string, size: number) => {
    const records = [];
    for await (const record of csvRecords(chunked(text, size), ',')) records.push(record);
    return records;
  };

  it('gives the same records whatever the chunk boundaries, a CRLF split across chunks included', async () => {
    const text = 'a,b\r\n"x\r\ny","q""q"\r\n,\rlast,"one"';
    const whole = await collect(text, text.length);
    expect(whole).toEqual([
      { fields: ['a', 'b'], line: 1 },
      { fields: ['x\ny', 'q"q'], line: 2 },
      { fields: ['', ''], line: 4 },
      { fields: ['last', 'one'], line: 5 },
    ]);
    for (const size of [1, 2, 3, 5]) expect(await collect(text, size)).toEqual(whole);
  });
});
