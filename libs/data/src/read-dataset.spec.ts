import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useTestSandbox } from '@fedtl/util/testing';
import { readDataset } from './read-dataset';

describe('readDataset', () => {
  const sandbox = useTestSandbox();
  const fixture = (name: string, content: string): string => {
    const path = join(sandbox.dir, name);
    writeFileSync(path, content);
    return path;
  };

  it.each([
    ['books.train.jsonl', '{"text":"good","label":"positive"}\n'],
    ['books.train.CSV', 'text,label\ngood,positive\n'],
    ['books.train.tsv', 'text\tlabel\ngood\tpositive\n'],
  ])('reads %s by its extension and names the dataset after the file', async (name, content) => {
    const dataset = await readDataset(fixture(name, content));
    expect(dataset.name).toBe('books.train');
    expect(dataset.examples).toEqual([{ id: `${name}:${name.endsWith('jsonl') ? 1 : 2}`, text: 'good', label: 'positive' }]);
    expect(dataset.badRows).toEqual([]);
  });

  it('passes the bad-row policy on', async () => {
    const path = fixture('skip.jsonl', '{"text":"good","label":"positive"}\nnot json\n');
    const dataset = await readDataset(path, { onBadRow: 'skip' });
    expect(dataset.examples).toHaveLength(1);
    expect(dataset.badRows).toEqual([{ file: path, line: 2, reason: expect.stringMatching(/^invalid JSON/) }]);
  });

  it('names the supported extensions for any other file', async () => {
    await expect(readDataset(join(sandbox.dir, 'reviews.json'))).rejects.toMatchObject({
      code: 'FEDTL_ERR_BAD_CONFIG',
      message: expect.stringContaining('unsupported extension ".json", expected one of .jsonl, .ndjson, .csv, .tsv'),
    });
  });
});
