import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runFedtl, type ProgramIo } from './program';

/** Runs `fedtl ARGV…` in this process with captured output. */
async function fedtl(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: ProgramIo = { env, stdout: (text) => void (stdout += text), stderr: (text) => void (stderr += text) };
  const code = await runFedtl(argv, io);
  return { code, stdout, stderr };
}

describe('the fedtl program', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'fedtl-cli-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('lists its commands and prints its version', async () => {
    const help = await fedtl(['--help']);
    expect(help.code).toBe(0);
    for (const command of ['coordinator', 'client', 'demo', 'token']) expect(help.stdout).toContain(command);
    expect(await fedtl(['--version'])).toMatchObject({ code: 0, stdout: expect.stringMatching(/^\d+\.\d+\.\d+\n$/) });
    expect((await fedtl(['token', '--help'])).stdout).toMatch(/issue[\s\S]*revoke[\s\S]*list/);
  });

  it('shows each option once in --help, with its default and environment variable', async () => {
    const { code, stdout } = await fedtl(['coordinator', '--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/--rounds <N>\s+federated rounds to run in total[^\n]*\(default 5; env FEDTL_ROUNDS\)/);
    expect(stdout).toContain('--config <FILE>');
    expect(stdout).toContain('--print-config');
    expect(stdout.match(/--min-clients </g)).toHaveLength(1);
  });

  it('merges flag > environment > config file > default, and --print-config shows each source with secrets redacted', async () => {
    const config = join(dir, 'coordinator.yaml');
    writeFileSync(config, 'rounds: 7\nminClients: 3\nport: 9000\nlearningRate: 0.01\n');
    const env = { FEDTL_ROUNDS: '8', FEDTL_MIN_CLIENTS: '4', FEDTL_TOKEN: 'a-very-long-federation-secret' };
    const { code, stdout } = await fedtl(['coordinator', '--config', config, '--rounds', '9', '--print-config'], env);
    expect(code).toBe(0);
    expect(stdout).toContain('rounds: 9 # flag --rounds');
    expect(stdout).toContain('minClients: 4 # environment FEDTL_MIN_CLIENTS');
    expect(stdout).toContain('port: 9000 # config file');
    expect(stdout).toContain('learningRate: 0.01 # config file');
    expect(stdout).toContain('batchSize: 32 # default');
    expect(stdout).toContain('# token: [redacted] (set, from environment FEDTL_TOKEN)');
    expect(stdout).not.toContain('a-very-long-federation-secret');
  });

  it('lists every bench suite in `fedtl bench --help`, each with its own --help', async () => {
    const suites = ['domains', 'cross-task', 'demo-tuning', 'embedding', 'lora-cost', 'load', 'leakage', 'secagg', 'few-shot', 'strategies', 'privacy', 'simulate', 'startup', 'wire', 'aggregate'];
    const help = await fedtl(['bench', '--help']);
    expect(help.code).toBe(0);
    const listed = [...help.stdout.matchAll(/^ {2}([a-z-]+) \[options\]/gm)].map((match) => match[1]);
    expect(listed).toEqual(suites);
    const domains = await fedtl(['bench', 'domains', '--help']);
    expect(domains.code).toBe(0);
    expect(domains.stdout).toMatch(/--fedavgm-server-lr <X>\s+fedavgm: server learning rate \(default 0.2\)\n/);
  });

  it('merges a shared bench option flag > config file > default, and reads no FEDTL_* variable for it', async () => {
    const config = join(dir, 'bench.yaml');
    writeFileSync(config, 'rounds: 7\nlearningRate: 0.01\n');
    const env = { FEDTL_ROUNDS: '8', FEDTL_LEARNING_RATE: '0.5' };
    const fromFile = await fedtl(['bench', 'strategies', '--config', config, '--print-config'], env);
    expect(fromFile.code).toBe(0);
    expect(fromFile.stdout).toContain('rounds: 7 # config file');
    expect(fromFile.stdout).toContain('learningRate: 0.01 # config file');
    expect(fromFile.stdout).toContain('batchSize: 16 # default');
    const fromFlag = await fedtl(['bench', 'privacy', '--config', config, '--rounds', '9', '--print-config'], env);
    expect(fromFlag.stdout).toContain('rounds: 9 # flag --rounds');
    expect(fromFlag.stdout).toContain('learningRate: 0.01 # config file');
  });

  it('prints the client\'s merged configuration with its token redacted, and refuses its bad values with exit status 2', async () => {
    const config = join(dir, 'client.yaml');
    writeFileSync(config, 'clientId: org-7\nfeatures: f.json\nminBatchSize: 8\n');
    const env = { FEDTL_COORDINATOR: 'http://127.0.0.1:8080', FEDTL_TOKEN: 'a-very-long-federation-secret' };
    const { code, stdout } = await fedtl(['client', '--config', config, '--min-batch-size', '16', '--print-config'], env);
    expect(code).toBe(0);
    expect(stdout).toContain('coordinator: http://127.0.0.1:8080 # environment FEDTL_COORDINATOR');
    expect(stdout).toContain('clientId: org-7 # config file');
    expect(stdout).toContain('minBatchSize: 16 # flag --min-batch-size');
    expect(stdout).toContain('# token: [redacted] (set, from environment FEDTL_TOKEN)');
    expect(stdout).not.toContain('a-very-long-federation-secret');
    const bad = await fedtl(['client', '--config', config, '--dp-delta', '0.5'], env);
    expect(bad).toMatchObject({ code: 2, stderr: 'fedtl client: FEDTL_ERR_BAD_CONFIG: --dp-delta: expected a finite number in (0, 0.01), got "0.5"\n' });
  });

  it('prints only a configuration the command accepts (the checks across options run first), URL credentials masked', async () => {
    expect(await fedtl(['coordinator', '--labels', 'a,a', '--print-config'])).toMatchObject({ code: 2, stdout: '', stderr: expect.stringContaining('--labels: expected distinct labels') });
    const leaky = await fedtl(['client', '--coordinator', 'http://user:pass@127.0.0.1:9/?token=qsecret', '--client-id', 'a', '--demo-mailbox', '1', '--print-config']);
    expect(leaky).toMatchObject({ code: 2, stdout: '' });
    expect(leaky.stderr).not.toMatch(/pass|qsecret/);
    const masked = await fedtl(['client', '--coordinator', 'http://user:pass@127.0.0.1:9', '--client-id', 'a', '--demo-mailbox', '1', '--print-config']);
    expect(masked.code).toBe(0);
    expect(masked.stdout).toContain('coordinator: http://***@127.0.0.1:9/ # flag --coordinator');
    expect(masked.stdout).not.toContain('pass');
  });

  it('refuses bad input in one line with exit status 2: unknown commands, flags and config keys, and bad values', async () => {
    const config = join(dir, 'c.json');
    writeFileSync(config, JSON.stringify({ rouds: 3 }));
    const cases: Array<[string[], Record<string, string>, string]> = [
      [['coordinater'], {}, "unknown command 'coordinater'"],
      [['coordinator', '--rouds', '3'], {}, "fedtl coordinator: FEDTL_ERR_BAD_CONFIG: command line: unknown option '--rouds' (Did you mean --rounds?)"],
      [['coordinator', '--config', config], {}, `fedtl coordinator: FEDTL_ERR_BAD_CONFIG: ${config}: unknown option "rouds" (did you mean "rounds"?)`],
      [['coordinator', '--port', 'http'], {}, 'fedtl coordinator: FEDTL_ERR_BAD_CONFIG: --port: expected an integer in [0, 65535], got "http"'],
      [['coordinator'], { FEDTL_ROUNDS: '0' }, 'FEDTL_ROUNDS (environment): expected an integer >= 1, got "0"'],
      [['demo', '--clients', '1'], {}, 'fedtl demo: FEDTL_ERR_BAD_CONFIG: --clients: expected at least 2 under secure aggregation'],
      [['token', 'issue', '--out-dir', dir], {}, 'fedtl token issue: FEDTL_ERR_BAD_CONFIG: --client: expected the client id'],
      [['bench', 'privacy', '--delta', '1'], {}, 'fedtl bench privacy: FEDTL_ERR_BAD_CONFIG: --delta: expected a finite number in (0, 1), got "1"'],
      [['bench', 'domians'], {}, "fedtl bench: FEDTL_ERR_BAD_CONFIG: command line: unknown command 'domians' (Did you mean domains?)"],
    ];
    for (const [argv, env, message] of cases) {
      const result = await fedtl(argv, env);
      expect({ argv, code: result.code, stderr: result.stderr }).toEqual({ argv, code: 2, stderr: expect.stringContaining(message) });
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});
