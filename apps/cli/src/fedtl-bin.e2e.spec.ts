// The built command as users run it: bin/fedtl.js loading dist/fedtl (the e2e target builds it first), not the
// TypeScript sources the other tests run.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { spawnBuiltFedtl, useTestSandbox, waitUntil, writeSyntheticFeatureFiles } from '@fedtl/util/testing';

const ROOT = resolve(__dirname, '../../..');
const BIN = join(ROOT, 'bin', 'fedtl.js');

function fedtl(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('the built fedtl command', () => {
  const sandbox = useTestSandbox();

  it('is built, and answers --version, --help and --print-config without starting anything', async () => {
    expect(existsSync(join(ROOT, 'dist', 'fedtl', 'main.js'))).toBe(true);
    expect(fedtl(['--version'])).toMatchObject({ status: 0, stdout: expect.stringMatching(/^\d+\.\d+\.\d+\n$/) });
    const help = fedtl(['--help']);
    expect(help.status).toBe(0);
    for (const command of ['coordinator', 'client', 'demo', 'bench', 'token']) expect(help.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    const config = join(sandbox.dir, 'coordinator.yaml');
    await writeFile(config, 'rounds: 7\nport: 9000\n');
    const printed = fedtl(['coordinator', '--config', config, '--port', '9100', '--print-config'], { FEDTL_ROUNDS: '8', FEDTL_OPERATOR_TOKEN: 'operator-secret-0123456789' });
    expect(printed.status).toBe(0);
    expect(printed.stdout).toContain('port: 9100 # flag --port');
    expect(printed.stdout).toContain('rounds: 8 # environment FEDTL_ROUNDS');
    expect(printed.stdout).not.toContain('operator-secret-0123456789');
    expect(fedtl(['coordinator', '--min-clients', 'two'])).toMatchObject({ status: 2, stderr: 'fedtl coordinator: FEDTL_ERR_BAD_CONFIG: --min-clients: expected an integer >= 1, got "two"\n' });
  });

  it('runs a real federation where every process is the bundle and clients train in its worker thread', async () => {
    const [first, second] = await writeSyntheticFeatureFiles(sandbox.dir, { clients: 2, dim: 12, trainPerClient: 40, testPerClient: 20 });
    const outDir = join(sandbox.dir, 'out');
    const readyFile = join(sandbox.dir, 'ready.json');
    const coordinator = spawnBuiltFedtl([
      'coordinator', '--port', '0', '--out-dir', outDir, '--ready-file', readyFile, '--rounds', '2', '--min-clients', '2',
      '--backbone', 'precomputed:12', '--labels', 'a,b', '--adapter-width', '4', '--local-epochs', '1', '--log-level', 'warn',
    ]);
    sandbox.processes.push(coordinator);
    await waitUntil(() => existsSync(readyFile) || coordinator.child.exitCode !== null, 120_000, 'the coordinator to listen');
    if (!existsSync(readyFile)) throw new Error(`coordinator exited early:\n${coordinator.output()}`);
    const { url } = JSON.parse(await readFile(readyFile, 'utf8'));
    const clients = [first, second].map((features, i) => {
      const client = spawnBuiltFedtl([
        'client', '--coordinator', url, '--client-id', `org-${i + 1}`, '--features', features, '--backbone', 'precomputed:12',
        '--backend', 'cpu', '--log-level', 'warn',
      ]);
      sandbox.processes.push(client);
      return client;
    });
    const codes = await Promise.all([coordinator, ...clients].map((process) => process.exited));
    expect({ codes, output: codes.every((code) => code === 0) ? '' : [coordinator, ...clients].map((p) => p.output()).join('\n---\n') }).toEqual({ codes: [0, 0, 0], output: '' });
    const summary = JSON.parse(await readFile(join(outDir, 'summary.json'), 'utf8'));
    expect(summary).toMatchObject({ roundsCompleted: 2 });
  });
});
