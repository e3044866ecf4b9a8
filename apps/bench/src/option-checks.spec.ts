import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useTestSandbox } from '@fedtl/util/testing';
import { discoverDomains } from './domains/domain-data';
import { fixedTexts } from './embedding/embedding-suite';
import { readAmazonReviews } from './leakage/audit-data';
import { existingPath } from './option-checks';
import { readSimulationData } from './simulate/simulation-data';

describe('existingPath', () => {
  const sandbox = useTestSandbox();

  it('passes an existing path of the kind asked for, and names the flag and the path otherwise', () => {
    const file = join(sandbox.dir, 'rows.jsonl');
    writeFileSync(file, '');
    const missing = join(sandbox.dir, 'missing.jsonl');
    expect(existingPath(file, '--data-file', 'file')).toBe(file);
    expect(existingPath(sandbox.dir, '--data-dir', 'folder')).toBe(sandbox.dir);
    expect(existingPath(sandbox.dir, '--data', 'file or folder')).toBe(sandbox.dir);
    expect(() => existingPath(missing, '--data-file', 'file')).toThrow(`--data-file: expected an existing file, got ${JSON.stringify(missing)}`);
    expect(() => existingPath(sandbox.dir, '--data-file', 'file')).toThrow(`--data-file: expected an existing file, not a folder, got ${JSON.stringify(sandbox.dir)}`);
    expect(() => existingPath(file, '--data-dir', 'folder')).toThrow(`--data-dir: expected an existing folder, not a file, got ${JSON.stringify(file)}`);
    expect(() => existingPath(missing, '--data', 'file or folder')).toThrow(expect.objectContaining({ code: 'FEDTL_ERR_BAD_CONFIG' }));
  });

  it("is what every bench suite's file and folder options go through before they are read", async () => {
    const missing = join(sandbox.dir, 'missing.jsonl');
    const file = join(sandbox.dir, 'rows.jsonl');
    writeFileSync(file, '');
    const refused = (flag: string) => expect.objectContaining({ code: 'FEDTL_ERR_BAD_CONFIG', message: expect.stringMatching(new RegExp(`^${flag}: expected an existing .*${missing}`)) });
    await expect(fixedTexts(1, missing)).rejects.toThrow(refused('--data-file'));
    await expect(readSimulationData(missing, { testFraction: 0.5, seed: 1 })).rejects.toThrow(refused('--data'));
    expect(() => discoverDomains(missing)).toThrow(refused('--data-dir'));
    expect(() => discoverDomains(file)).toThrow('--data-dir: expected an existing folder, not a file');
    await expect(readAmazonReviews(missing, { perOrganisation: 1, others: 1, seed: 1 })).rejects.toThrow(refused('--data-dir'));
  });
});
