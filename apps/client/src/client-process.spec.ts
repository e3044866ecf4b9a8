// The client process's start: what it refuses before it loads data or connects.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { useTestSandbox } from '@fedtl/util/testing';
import { runClient } from './client-process';
import { exitCodeForError, EXIT_CODES } from './exit-codes';

describe('runClient', () => {
  const sandbox = useTestSandbox();

  it('stops with exit 2 on a corrupt privacy ledger, naming it, and leaves the file as it is', async () => {
    const cacheDir = join(sandbox.dir, 'cache');
    const ledger = join(cacheDir, 'privacy-ledger-org-1.json');
    await mkdir(cacheDir, { recursive: true });
    await writeFile(ledger, '{"version": 1, "events": [{"round": 1}]}');
    const argv = ['--coordinator', 'http://127.0.0.1:9', '--client-id', 'org-1', '--features', join(sandbox.dir, 'absent.json'), '--cache-dir', cacheDir, '--log-level', 'error'];
    // The default ledger is the cache directory's; the data is never read (the file given does not exist).
    const error = await runClient([...argv, '--dp-epsilon', '3'], {}).then(() => undefined, (err) => err);
    expect(error).toMatchObject({ code: 'FEDTL_ERR_BAD_CONFIG', message: expect.stringMatching(new RegExp(`^--dp-ledger ${ledger}: expected a privacy ledger`)) });
    expect(exitCodeForError(error)).toBe(EXIT_CODES.refused);
    // Without a budget too: the ledger is read at every start, and never reset.
    await expect(runClient(argv, {})).rejects.toMatchObject({ code: 'FEDTL_ERR_BAD_CONFIG' });
    expect(await readFile(ledger, 'utf8')).toBe('{"version": 1, "events": [{"round": 1}]}');
  });
});
