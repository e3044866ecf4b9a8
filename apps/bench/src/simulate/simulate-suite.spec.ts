import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { useTestSandbox } from '@fedtl/util/testing';
import { embedOnce } from '../domains/feature-store';
import { commandLine } from '../testing/command-line';
import { writeFixtureDomains } from '../testing/fixture-domains';
import { SIMULATE_OPTIONS, simulateOptionsFrom } from './simulate-options';
import { simulate } from './simulate-suite';

// Embedding every text takes minutes on real data: what the rows alone can refuse must be refused before it starts.
jest.mock('../domains/feature-store', () => ({ embedOnce: jest.fn(async () => Promise.reject(new Error('the embedding started'))) }));

describe('simulate, before it embeds anything', () => {
  const sandbox = useTestSandbox();
  const run = (argv: string[]) => simulate(simulateOptionsFrom(commandLine(SIMULATE_OPTIONS, ['--out', join(sandbox.dir, 'out'), '--workers', '1', ...argv]).values), 'test');
  const refusedEarly = async (argv: string[], message: string) => {
    await expect(run(argv)).rejects.toThrow(expect.objectContaining({ code: 'FEDTL_ERR_BAD_CONFIG', message }));
    expect(embedOnce).not.toHaveBeenCalled();
  };
  beforeEach(() => jest.mocked(embedOnce).mockClear());

  it('refuses more clients than training rows', async () => {
    await writeFixtureDomains(sandbox.dir, 6, 2);
    await refusedEarly(['--data', sandbox.dir, '--clients', '13', '--clients-per-round', '2'], '--clients: expected at most the 12 training rows, got 13');
  });

  it('refuses fewer clients than values of the partition field', async () => {
    await writeFixtureDomains(sandbox.dir, 6, 2);
    await refusedEarly(['--data', sandbox.dir, '--partition', 'field:file', '--clients', '1', '--clients-per-round', '1'], expect.stringMatching(/^--clients: expected at least one client per value of "file"/));
  });

  it('refuses data of fewer than two labels', async () => {
    const file = join(sandbox.dir, 'one-label.jsonl');
    await writeFile(file, Array.from({ length: 10 }, (_, i) => JSON.stringify({ text: `review ${i}`, label: 'positive' })).join('\n'));
    await refusedEarly(['--data', file, '--clients', '2', '--clients-per-round', '2'], '--data: expected rows of at least two distinct labels (the classes the federation learns), got ["positive"]');
  });

  it('embeds once the rows pass (the mock stands in for it)', async () => {
    await writeFixtureDomains(sandbox.dir, 6, 2);
    await expect(run(['--data', sandbox.dir, '--clients', '4', '--clients-per-round', '2'])).rejects.toThrow('the embedding started');
    expect(embedOnce).toHaveBeenCalledTimes(1);
  });
});
