import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { useTestSandbox } from '@fedtl/util/testing';
import { runTokenCommand } from './token-command';

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runTokenCommand(argv, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) });
  return { code, stdout, stderr };
}

describe('fedtl token', () => {
  const sandbox = useTestSandbox();

  it('issues a token (alone on stdout, shown once), lists tokens without secrets or hashes, and revokes', async () => {
    const outDir = join(sandbox.dir, 'out');
    const issued = await run(['issue', '--out-dir', outDir, '--client', 'org-1']);
    expect(issued.code).toBe(0);
    expect(issued.stdout).toMatch(/^fedtl_[0-9a-f]{16}_[A-Za-z0-9_-]{43}\n$/);
    const tokenId = issued.stdout.split('_')[1];
    expect(issued.stderr).toContain(`issued token ${tokenId} for client org-1 (store ${join(outDir, 'tokens.json')})`);
    expect(issued.stderr).toContain('--client-id org-1 --token-file org-1.token');
    expect(issued.stderr).not.toContain(issued.stdout.trim());

    const listed = await run(['list', '--out-dir', outDir]);
    expect(listed.code).toBe(0);
    const rows = listed.stdout.trim().split('\n').map((line) => line.split(/\s+/));
    expect(rows).toEqual([['CLIENT', 'TOKEN', 'ID', 'CREATED', 'REVOKED'], ['org-1', tokenId, expect.stringMatching(/^\d{4}-/), '-']]);
    const { tokens } = JSON.parse(await readFile(join(outDir, 'tokens.json'), 'utf8'));
    expect(listed.stdout).not.toContain(tokens[0].hash);
    expect(listed.stdout).not.toContain(issued.stdout.trim().split('_')[2]);

    expect(await run(['revoke', '--out-dir', outDir, '--token-id', tokenId])).toMatchObject({ code: 0, stdout: '', stderr: expect.stringContaining(`revoked token ${tokenId} of client org-1`) });
    expect((await run(['list', '--out-dir', outDir])).stdout).not.toMatch(/ -\n/);
    expect(await run(['revoke', '--out-dir', outDir, '--client', 'org-1'])).toMatchObject({ code: 0, stderr: expect.stringContaining(`token ${tokenId} of client org-1 was revoked already`) });
    expect(await run(['list', '--out-dir', join(sandbox.dir, 'empty')])).toMatchObject({ code: 0, stdout: '', stderr: expect.stringContaining('no token store at') });
  });

  it('exits 2 on bad usage, naming what it expected and what it got', async () => {
    const outDir = join(sandbox.dir, 'out');
    const cases: Array<[string[], string]> = [
      [[], 'command: expected one of issue, revoke, list, got "none"'],
      [['rotate', '--out-dir', outDir], 'command: expected one of issue, revoke, list, got "rotate"'],
      [['issue', '--client', 'org-1'], '--out-dir/--token-store: expected exactly one of them, got "neither"'],
      [['issue', '--out-dir', outDir], '--client: expected the client id to issue a token for, got "none"'],
      [['issue', '--out-dir', outDir, '--client', '../etc'], '--client: expected a client id of 1-64 letters'],
      [['revoke', '--out-dir', outDir], '--client/--token-id: expected exactly one of them, got "neither"'],
      [['list', '--out-dir', outDir, '--client', 'org-1'], "command line: unknown option '--client'"],
      [['list', '--out-dir', outDir, '--secret'], "command line: unknown option '--secret'"],
      [['revoke', '--out-dir', outDir, '--token-id', 'abc'], 'which does not exist'],
      [['issue', '--out-dir', outDir, '--client', 'org-1', '--client', 'org-2'], '--client was given twice ("org-1", then "org-2"): give it once'],
      [['issue', '--out-dir', outDir, '--client=org-1', '--client', 'org-2'], '--client was given twice'],
      [['issue', '--out-dir', outDir, '--out-dir', sandbox.dir, '--client', 'org-1'], '--out-dir was given twice'],
    ];
    for (const [argv, message] of cases) {
      const result = await run(argv);
      expect({ argv, code: result.code, stderr: result.stderr }).toEqual({ argv, code: 2, stderr: expect.stringContaining(message) });
    }
    // --out-dir may come from the environment (the coordinator's own FEDTL_OUT_DIR); --client never does.
    expect(await runTokenCommand(['list'], { stdout: () => undefined, stderr: () => undefined }, { FEDTL_OUT_DIR: outDir })).toBe(0);
    const fromEnv = await runTokenCommand(['issue', '--out-dir', outDir], { stdout: () => undefined, stderr: () => undefined }, { FEDTL_CLIENT: 'org-9' });
    expect(fromEnv).toBe(2);
  });
});
