import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FedtlError } from '@fedtl/util';
import { useTestSandbox } from '@fedtl/util/testing';
import { readJsonl, writeJsonl } from './jsonl';

describe('readJsonl', () => {
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

  it('reads rows, skips blank lines and falls back to file:line ids', async () => {
    const path = fixture(
      'good.jsonl',
      '{"id":"a","text":"great book","label":"positive"}\n\n   \n{"text":" dull ","label":" negative ","extra":1}\r\n{"id":7,"text":"ok","label":"positive"}',
    );
    const { examples, badRows } = await readJsonl(path);
    expect(examples).toEqual([
      { id: 'a', text: 'great book', label: 'positive' },
      { id: 'good.jsonl:4', text: 'dull', label: 'negative' },
      { id: '7', text: 'ok', label: 'positive' },
    ]);
    expect(badRows).toEqual([]);
  });

  it('strips a byte order mark and honours custom field names', async () => {
    const path = fixture('custom.jsonl', '\uFEFF{"key":"k1","body":"hello","class":"x"}\n');
    const { examples } = await readJsonl(path, { textField: 'body', labelField: 'class', idField: 'key' });
    expect(examples).toEqual([{ id: 'k1', text: 'hello', label: 'x' }]);
  });

  it('joins several text fields, leaving out blank ones', async () => {
    const path = fixture(
      'reviews.jsonl',
      '{"title":"Great","text":"Loved it","label":"positive"}\n{"title":"","text":"Meh","label":"negative"}\n',
    );
    const { examples } = await readJsonl(path, { textFields: ['title', 'text'] });
    expect(examples.map((example) => example.text)).toEqual(['Great\nLoved it', 'Meh']);
  });

  it('throws FEDTL_ERR_BAD_DATA naming the file and line of the first bad row', async () => {
    const path = fixture('numeric-label.jsonl', '{"text":"a","label":"x"}\n\n{"text":"b","label":3}\n');
    const err = await rejection(readJsonl(path));
    expect(err.code).toBe('FEDTL_ERR_BAD_DATA');
    expect(err.message).toBe(`${path}:3: expected a string field "label", got number 3`);
    expect(err.details).toMatchObject({ file: path, line: 3 });
  });

  it('collects every bad row with its line and reason when asked to skip', async () => {
    const path = fixture(
      'mixed.jsonl',
      [
        '{"text":"fine","label":"x"}',
        '{"text":"broken",',
        '[1,2]',
        '{"label":"x"}',
        '{"text":"   ","label":"x"}',
        '{"text":42,"label":"x"}',
        '{"text":"no label"}',
        '{"text":"blank label","label":" "}',
        '{"id":{"a":1},"text":"odd id","label":"x"}',
        '{"text":"also fine","label":"y"}',
      ].join('\n'),
    );
    const { examples, badRows } = await readJsonl(path, { onBadRow: 'skip' });
    expect(examples.map((example) => example.text)).toEqual(['fine', 'also fine']);
    expect(badRows.map((row) => row.line)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    expect(badRows.every((row) => row.file === path)).toBe(true);
    expect(badRows.map((row) => row.reason)).toEqual([
      expect.stringMatching(/^invalid JSON \(.+\)$/),
      'expected a JSON object, got array(2)',
      'expected a non-empty string field "text", but it is missing',
      'expected a non-empty string field "text", got a blank one',
      'expected a string field "text", got number 42',
      'expected a string field "label", but it is missing',
      'expected a non-empty string field "label", got a blank one',
      'expected a string or number field "id", got object',
    ]);
  });

  it('reports rows whose several text fields are all blank', async () => {
    const path = fixture('blank-fields.jsonl', '{"title":"","label":"x"}\n');
    const err = await rejection(readJsonl(path, { textFields: ['title', 'text'] }));
    expect(err.message).toBe(
      `${path}:1: expected a non-empty string in one of the fields "title", "text", but all are missing or blank`,
    );
  });

  it('rejects a missing file', async () => {
    await expect(readJsonl(join(sandbox.dir, 'absent.jsonl'))).rejects.toThrow(/ENOENT/);
  });
});

describe('writeJsonl', () => {
  const sandbox = useTestSandbox();

  it('writes examples, extra fields included, that read back unchanged', async () => {
    const path = join(sandbox.dir, 'mailbox.jsonl');
    const examples = [
      { id: 'spam-1/00001', text: 'Subject: hi\n\n"quoted" body', label: 'spam', group: 'spam-1' },
      { id: 'easy-ham-1/00002', text: 'Subject: re\n\nü ✓', label: 'ham', group: 'easy-ham-1' },
    ];
    await writeJsonl(path, examples);
    const { examples: read } = await readJsonl(path);
    expect(read).toEqual(examples.map(({ id, text, label }) => ({ id, text, label })));
  });
});

describe('readJsonl and label normalisation', () => {
  const sandbox = useTestSandbox();

  it('reads the label-unicode-normalization case\'s decomposed labels as NFC', async () => {
    const path = join(sandbox.dir, 'tickets.jsonl');
    writeFileSync(path, '{"text": "Je conteste le montant pre\u0301leve\u0301 0", "label": "re\u0301clamation"}\n');
    const { examples } = await readJsonl(path);
    expect(examples[0].label).toBe('r\u00e9clamation');
    // The text is the user's own and is kept exactly as written.
    expect(examples[0].text).toBe('Je conteste le montant pre\u0301leve\u0301 0');
  });
});
