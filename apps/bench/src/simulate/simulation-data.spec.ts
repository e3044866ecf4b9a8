import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir } from '@fedtl/util/testing';
import { writeFixtureDomains } from '../testing/fixture-domains';
import { readSimulationData } from './simulation-data';

describe('readSimulationData', () => {
  let temp: { dir: string; cleanup: () => Promise<void> };
  beforeEach(async () => {
    temp = await makeTempDir('fedtl-simulate-data-');
  });
  afterEach(() => temp.cleanup());

  it("pools a folder's training files, takes its test files as the test set, and groups rows by file", async () => {
    await writeFixtureDomains(temp.dir, 12, 6);
    const data = await readSimulationData(temp.dir, { groupField: 'file', testFraction: 0.2, seed: 1 });
    expect(data.files).toEqual(['books.train.jsonl', 'kitchen.train.jsonl']);
    expect(data.train).toHaveLength(24);
    expect(data.test).toHaveLength(12);
    expect(data.testSource).toBe('books.test.jsonl, kitchen.test.jsonl');
    expect(data.labels).toEqual(['negative', 'positive']);
    expect(data.trainGroups).toEqual([...Array(12).fill('books'), ...Array(12).fill('kitchen')]);
  });

  it('holds out a stratified share of one file, the group values following their rows, and refuses a row without the field', async () => {
    const file = join(temp.dir, 'reviews.jsonl');
    const rows = Array.from({ length: 20 }, (_, i) => ({ id: `r${i}`, text: `review ${i}`, label: i % 2 ? 'positive' : 'negative', shop: `shop-${i % 4}` }));
    await writeFile(file, rows.map((row) => JSON.stringify(row)).join('\n') + '\n');
    const data = await readSimulationData(file, { groupField: 'shop', testFraction: 0.2, seed: 3 });
    expect(data.test).toHaveLength(4);
    expect(data.train).toHaveLength(16);
    data.train.forEach((row, i) => expect(data.trainGroups?.[i]).toBe(`shop-${Number(row.id.slice(1)) % 4}`));
    expect(new Set([...data.train, ...data.test].map((row) => row.id)).size).toBe(20);

    await writeFile(file, JSON.stringify({ text: 'a', label: 'positive' }) + '\n');
    await expect(readSimulationData(file, { groupField: 'shop', testFraction: 0.5, seed: 1 })).rejects.toThrow(/^--partition: .* got "field:shop"$/);
    await expect(readSimulationData(join(temp.dir, 'missing'), { testFraction: 0.5, seed: 1 })).rejects.toThrow('--data: expected an existing file or folder');
  });

  it('refuses a partition field the rows do not have, naming --partition, the field and the fields there are', async () => {
    const jsonl = join(temp.dir, 'reviews.jsonl');
    await writeFile(jsonl, [{ id: 'r1', text: 'a', label: 'positive', shop: 's1' }, { text: 'b', label: 'negative', shop: 's2', stars: 4 }].map((row) => JSON.stringify(row)).join('\n'));
    await expect(readSimulationData(jsonl, { groupField: 'Shop', testFraction: 0.5, seed: 1 })).rejects.toThrow(
      '--partition: expected field:NAME with NAME a field of every row (the first rows of reviews.jsonl have "id", "text", "label", "shop", "stars"), or field:file, got "field:Shop"',
    );
    const csv = join(temp.dir, 'reviews.csv');
    await writeFile(csv, 'text,label,shop\na,positive,s1\nb,negative,s2\n');
    await expect(readSimulationData(csv, { groupField: 'nosuch', testFraction: 0.5, seed: 1 })).rejects.toThrow(/^--partition: expected .*reviews.csv have "text", "label", "shop".*got "field:nosuch"$/);
    expect((await readSimulationData(csv, { groupField: 'shop', testFraction: 0.5, seed: 1 })).trainGroups).toEqual(['s1', 's2']);
  });
});
