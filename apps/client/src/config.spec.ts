import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PERMISSIVE_POLICY } from '@fedtl/privacy';
import { FedtlError } from '@fedtl/util';
import { parseCommandLine } from '@fedtl/util/options';
import { useTestSandbox } from '@fedtl/util/testing';
import { ADAPT_ONLY_DEFAULTS, CLIENT_OPTIONS, DEFAULT_DP_DELTA, DEFAULT_GIVE_UP_AFTER_MS } from './client-options';
import { clientConfigFrom, parseClientConfig } from './config';
import { connectErrorCode } from './handshake-refusal';

const base = ['--client-id', 'org-1', '--features', 'f.json'];

function configError(argv: string[]): FedtlError {
  try {
    parseClientConfig(argv);
  } catch (err) {
    return err as FedtlError;
  }
  throw new Error('expected a configuration error, got a config');
}

describe('client config', () => {
  it('refuses a coordinator URL with a path, naming the URL to use', () => {
    const error = configError(['--coordinator', 'http://127.0.0.1:8080/api/status', ...base]);
    expect(error.code).toBe('FEDTL_ERR_BAD_CONFIG');
    expect(error.message).toMatch(/--coordinator: expected a URL without a path, such as http:\/\/127\.0\.0\.1:8080, got "http:\/\/127\.0\.0\.1:8080\/api\/status"/);
  });

  it('refuses a dash-led value by its range and an unknown flag with the closest one, as configuration errors', () => {
    expect(configError([...base, '--max-rounds', '-1'])).toMatchObject({ code: 'FEDTL_ERR_BAD_CONFIG', message: '--max-rounds: expected an integer >= 0, got "-1"' });
    const unknown = configError([...base, '--max-round', '2']);
    expect(unknown.code).toBe('FEDTL_ERR_BAD_CONFIG');
    expect(unknown.message).toMatch(/^command line: unknown option '--max-round' \(Did you mean --max-rounds\?\)/);
  });

  it('accepts a URL without a path, with or without the trailing slash', () => {
    for (const url of ['http://127.0.0.1:8080', 'https://coordinator.example:8443/']) {
      expect(parseClientConfig(['--coordinator', url, ...base])).toMatchObject({ coordinator: url });
    }
  });

  it('refuses client ids made only of dots (they name directories: the default cache dir would escape)', () => {
    for (const id of ['.', '..', '...']) {
      const error = configError(['--coordinator', 'http://h:1', '--client-id', id, '--features', 'f.json']);
      expect(error.code).toBe('FEDTL_ERR_BAD_CONFIG');
      expect(error.message).toBe(`--client-id: expected 1-64 letters, digits, ".", "_" or "-", not only dots, got ${JSON.stringify(id)}`);
    }
    expect(parseClientConfig(['--coordinator', 'http://h:1', '--client-id', '.org-1.', '--features', 'f.json'])).toMatchObject({ clientId: '.org-1.' });
  });

  it('gives up after --give-up-after-ms, ten minutes by default', () => {
    expect(parseClientConfig(['--coordinator', 'http://h:1', ...base])).toMatchObject({ giveUpAfterMs: DEFAULT_GIVE_UP_AFTER_MS });
    expect(parseClientConfig(['--coordinator', 'http://h:1', '--give-up-after-ms', '1500', ...base])).toMatchObject({ giveUpAfterMs: 1500 });
    expect(configError(['--coordinator', 'http://h:1', '--give-up-after-ms', '0', ...base]).code).toBe('FEDTL_ERR_BAD_CONFIG');
  });
});
describe('client configuration: the privacy policy', () => {
  const sandbox = useTestSandbox();
  const base = ['--coordinator', 'http://127.0.0.1:8080', '--client-id', 'org-1', '--features', 'f.json'];

  it('accepts every plan by default', () => {
    expect(parseClientConfig(base)).toMatchObject({ privacyPolicy: PERMISSIVE_POLICY });
  });

  it('reads each flag into the policy', () => {
    const flags = ['--require-secure-aggregation', '--min-other-contributors', '3', '--min-examples', '50', '--min-batch-size', '16', '--max-rounds', '10'];
    expect(parseClientConfig([...base, ...flags])).toMatchObject({
      privacyPolicy: { requireSecureAggregation: true, minOtherContributors: 3, minExamples: 50, minBatchSize: 16, maxRounds: 10 },
    });
  });

  it('declares the permissive policy as its defaults', () => {
    const declared = Object.fromEntries(Object.keys(PERMISSIVE_POLICY).map((key) => [key, CLIENT_OPTIONS[key as keyof typeof PERMISSIVE_POLICY].default]));
    expect(declared).toEqual(PERMISSIVE_POLICY);
  });

  it('reads the policy from a --config file, true or false for --require-secure-aggregation', () => {
    const file = join(sandbox.dir, 'client.json');
    writeFileSync(file, JSON.stringify({ requireSecureAggregation: true, minBatchSize: 8 }));
    expect(parseClientConfig([...base, '--config', file])).toMatchObject({ privacyPolicy: { ...PERMISSIVE_POLICY, requireSecureAggregation: true, minBatchSize: 8 } });
    writeFileSync(file, JSON.stringify({ requireSecureAggregation: 'maybe' }));
    expect(configError([...base, '--config', file]).message).toBe(`${file}: requireSecureAggregation: expected true or false, got "maybe"`);
  });

  it('refuses values outside each flag\'s range, naming the flag, what it takes and what it got', () => {
    const cases: Array<[string, string, string]> = [
      ['--min-other-contributors', '-1', 'an integer >= 0'],
      ['--min-examples', '0', 'an integer >= 1'],
      ['--min-batch-size', '2.5', 'an integer >= 1'],
      ['--max-rounds', 'ten', 'an integer >= 0'],
    ];
    for (const [flag, value, expected] of cases) {
      const error = configError([...base, `${flag}=${value}`]);
      expect(error.code).toBe('FEDTL_ERR_BAD_CONFIG');
      expect(error.message).toBe(`${flag}: expected ${expected}, got ${JSON.stringify(value)}`);
    }
  });
});

describe('client configuration: differential privacy', () => {
  const base = ['--coordinator', 'http://127.0.0.1:8080', '--client-id', 'org-1', '--features', 'f.json'];

  it('keeps a ledger named after the client in its cache directory by default, without a budget, at δ = 1e-5', () => {
    expect(parseClientConfig(base)).toMatchObject({ differentialPrivacy: { delta: DEFAULT_DP_DELTA, ledger: join('.fedtl-cache', 'org-1', 'privacy-ledger-org-1.json') } });
    // A cache directory shared by several clients holds one ledger each.
    expect(parseClientConfig([...base, '--cache-dir', '/var/fedtl'])).toMatchObject({ differentialPrivacy: { ledger: join('/var/fedtl', 'privacy-ledger-org-1.json') } });
    expect(parseClientConfig(base)).not.toHaveProperty('differentialPrivacy.epsilon');
  });

  it('reads the budget and the ledger from the flags', () => {
    expect(parseClientConfig([...base, '--dp-epsilon', '2', '--dp-delta', '1e-6', '--dp-ledger', 'org.ledger.json'])).toMatchObject({
      differentialPrivacy: { epsilon: 2, delta: 1e-6, ledger: 'org.ledger.json' },
    });
  });

  it.each([
    [['--dp-epsilon', '0'], '--dp-epsilon: expected a finite number > 0, got "0"'],
    [['--dp-epsilon', 'Infinity'], '--dp-epsilon: expected a finite number > 0, got "Infinity"'],
    [['--dp-delta', '0.5'], '--dp-delta: expected a finite number in (0, 0.01), got "0.5"'],
    [['--dp-delta', 'small'], '--dp-delta: expected a finite number in (0, 0.01), got "small"'],
    [['--dp-ledger='], '--dp-ledger: expected a non-empty string, got ""'],
  ])('refuses %j', (args, message) => {
    expect(configError([...base, ...args])).toMatchObject({ code: 'FEDTL_ERR_BAD_CONFIG', message });
  });

  it('refuses the DP flags with --adapt-only, which sends nothing', () => {
    expect(() => parseClientConfig(['--adapt-only', '--init-from', 'r', '--data', 'd.jsonl', '--dp-epsilon', '1'])).toThrow('--dp-epsilon: expected no federation option with --adapt-only');
  });
});

describe('client configuration: the token', () => {
  const sandbox = useTestSandbox();
  const base = ['--coordinator', 'http://127.0.0.1:8080', '--client-id', 'org-1', '--features', 'f.json'];

  it('reads the token from a file, and warns that --token on the command line is visible in the process list', () => {
    const file = join(sandbox.dir, 'token');
    writeFileSync(file, 'a1b2c3d4e5f60718293a\n');
    expect(parseClientConfig([...base, '--token-file', file])).toMatchObject({ token: 'a1b2c3d4e5f60718293a', warnings: [] });
    expect(parseClientConfig(base, { FEDTL_TOKEN: 'from-env-0123456789' })).toMatchObject({ token: 'from-env-0123456789', warnings: [] });
    expect(parseClientConfig([...base, '--token', 'a1b2c3d4e5f60718293a'])).toMatchObject({
      warnings: ['--token on the command line is visible to every user of this machine (ps); use --token-file FILE or FEDTL_TOKEN'],
    });
    expect(() => parseClientConfig([...base, '--token', 'x', '--token-file', file])).toThrow('--token/--token-file: expected one of them, got "both"');
    const empty = join(sandbox.dir, 'empty.token');
    writeFileSync(empty, '\n');
    expect(() => parseClientConfig([...base, '--token-file', empty])).toThrow(`--token-file: expected a file holding a secret, got "${empty} (empty)"`);
  });

  it('takes the token from the higher-precedence source when it comes both ways', () => {
    const file = join(sandbox.dir, 'token');
    writeFileSync(file, 'from-the-file-0123456789\n');
    expect(parseClientConfig([...base, '--token-file', file], { FEDTL_TOKEN: 'from-env-0123456789' })).toMatchObject({ token: 'from-the-file-0123456789' });
    expect(parseClientConfig([...base, '--token', 'from-flag-0123456789'], { FEDTL_TOKEN_FILE: file })).toMatchObject({ token: 'from-flag-0123456789' });
    expect(() => parseClientConfig(base, { FEDTL_TOKEN: 'from-env-0123456789', FEDTL_TOKEN_FILE: file })).toThrow('--token/--token-file: expected one of them, got "both"');
  });
});

describe('connectErrorCode', () => {
  it('maps a refused handshake\'s status and a middleware refusal to catalogue codes', () => {
    const handshake = (status: number) => Object.assign(new Error('websocket error'), { description: { message: `Unexpected server response: ${status}` } });
    expect(connectErrorCode(handshake(401))).toBe('FEDTL_ERR_UNAUTHORIZED');
    expect(connectErrorCode(handshake(429))).toBe('FEDTL_ERR_RATE_LIMITED');
    expect(connectErrorCode(handshake(503))).toBe('FEDTL_ERR_TOO_MANY_CONNECTIONS');
    expect(connectErrorCode(Object.assign(new Error('unauthorized'), { data: { code: 'FEDTL_ERR_UNAUTHORIZED' } }))).toBe('FEDTL_ERR_UNAUTHORIZED');
    expect(connectErrorCode(new Error('xhr poll error'))).toBeUndefined();
  });
});

describe('client configuration: --adapt-only', () => {
  const parse = (args: string[]) => {
    return parseClientConfig(args);
  };

  it('needs no coordinator or client id, and takes its own flags with defaults', () => {
    const config = parse(['--adapt-only', '--init-from', 'runs/a', '--data', 'mine.jsonl', '--train-limit', '32']);
    // No step size: the run's Per-FedAvg α from its checkpoint, else the default (adapt-only.ts).
    expect(config.adaptOnly).toEqual({ initFrom: 'runs/a', steps: ADAPT_ONLY_DEFAULTS.steps, optimizer: 'sgd' });
    expect(config).toMatchObject({ coordinator: '', clientId: 'adapt-only', trainLimit: 32 });
    const tuned = parse(['--adapt-only', '--init-from', 'x.ckpt', '--data', 'd.jsonl', '--steps', '3', '--adapt-learning-rate', '0.1', '--adapt-optimizer', 'adam', '--save-adapted', 'out.ckpt']);
    expect(tuned.adaptOnly).toEqual({ initFrom: 'x.ckpt', steps: 3, learningRate: 0.1, optimizer: 'adam', saveTo: 'out.ckpt' });
    expect(parse(['--coordinator', 'http://127.0.0.1:1', '--client-id', 'a', '--data', 'd.jsonl']).adaptOnly).toBeUndefined();
  });

  it.each([
    [['--adapt-only', '--data', 'd.jsonl'], '--init-from: expected a checkpoint file or run directory with --adapt-only'],
    [['--adapt-only', '--init-from', 'r', '--data', 'd.jsonl', '--coordinator', 'http://127.0.0.1:1'], '--coordinator: expected no coordinator with --adapt-only (it opens no connection)'],
    [['--adapt-only', '--init-from', 'r', '--data', 'd.jsonl', '--steps', '0'], '--steps: expected an integer in [1, 100000], got "0"'],
    [['--adapt-only', '--init-from', 'r', '--data', 'd.jsonl', '--adapt-learning-rate', 'NaN'], '--adapt-learning-rate: expected a finite number > 0, got "NaN"'],
    [['--adapt-only', '--init-from', 'r', '--data', 'd.jsonl', '--adapt-optimizer', 'rmsprop'], '--adapt-optimizer: expected one of sgd|adam, got "rmsprop"'],
    [['--coordinator', 'http://127.0.0.1:1', '--client-id', 'a', '--data', 'd.jsonl', '--steps', '5'], '--steps: expected --adapt-only (the only mode that takes it), got 5'],
    [['--adapt-only', '--init-from', 'r', '--data', 'd.jsonl', '--steps', '1e12'], '--steps: expected an integer in [1, 100000], got "1e12"'],
    [['--adapt-only', '--init-from', 'r', '--data', 'd.jsonl', '--steps', '99999999999999999999'], '--steps: expected an integer in [1, 100000], got "99999999999999999999"'],
    [['--adapt-only', '--init-from', 'r', '--data', 'd.jsonl', '--personalize-epochs', '5'], '--personalize-epochs: expected no federation option with --adapt-only (it joins no federation), got 5'],
    [['--adapt-only', '--init-from', 'r', '--data', 'd.jsonl', '--token', 's'], '--token: expected no federation option with --adapt-only'],
    [['--adapt-only', '--init-from', 'r', '--data', 'd.jsonl', '--require-secure-aggregation'], '--require-secure-aggregation: expected no federation option with --adapt-only'],
  ])('refuses %j', (args, message) => {
    expect(() => parseClientConfig(args)).toThrow(message);
  });
});

describe('client configuration: sources', () => {
  const sandbox = useTestSandbox();
  const base = ['--coordinator', 'http://127.0.0.1:8080', '--client-id', 'org-1', '--features', 'f.json'];

  it('takes an option from the flag, else the environment, else the config file, else its default', () => {
    const file = join(sandbox.dir, 'client.yaml');
    writeFileSync(file, 'minBatchSize: 3\n');
    const cases: Array<[string[], Record<string, string>, string[], number]> = [
      [['--min-batch-size', '5'], { FEDTL_MIN_BATCH_SIZE: '4' }, ['--config', file], 5],
      [[], { FEDTL_MIN_BATCH_SIZE: '4' }, ['--config', file], 4],
      [[], {}, ['--config', file], 3],
      [[], {}, [], 1],
    ];
    for (const [flags, env, config, expected] of cases) {
      expect(parseClientConfig([...base, ...flags, ...config], env).privacyPolicy.minBatchSize).toBe(expected);
    }
  });

  it('reads a YAML config file with every kind of value, and FEDTL_COORDINATOR and FEDTL_CLIENT_ID from the environment', () => {
    const file = join(sandbox.dir, 'client.yaml');
    writeFileSync(file, ['# org-7 on the GPU box', 'features: f.json', 'backend: wasm', 'seed: 11', 'requireSecureAggregation: true', 'dpEpsilon: 8', 'dpDelta: 1e-6', ''].join('\n'));
    const config = parseClientConfig(['--config', file], { FEDTL_COORDINATOR: 'https://coordinator.example:8443', FEDTL_CLIENT_ID: 'org-7' });
    expect(config).toMatchObject({
      coordinator: 'https://coordinator.example:8443',
      clientId: 'org-7',
      backend: 'wasm',
      seed: 11,
      data: { kind: 'precomputed', path: 'f.json' },
      privacyPolicy: { requireSecureAggregation: true },
      differentialPrivacy: { epsilon: 8, delta: 1e-6 },
    });
  });

  it('refuses an unknown config key, naming the closest option', () => {
    const file = join(sandbox.dir, 'client.yaml');
    writeFileSync(file, 'minBatchSzie: 8\n');
    expect(configError([...base, '--config', file]).message).toBe(`${file}: unknown option "minBatchSzie" (did you mean "minBatchSize"?); keys are the options' camelCase names, see --help`);
  });

  it('prints the merged configuration with the token redacted, and reads it back as the same configuration', () => {
    const env = { FEDTL_TOKEN: 'a-very-secret-federation-token' };
    const loaded = parseCommandLine(CLIENT_OPTIONS, [...base, '--min-examples', '20', '--print-config'], env, () => '');
    expect(loaded.printConfig).toBe(true);
    expect(loaded.printed).not.toContain('a-very-secret-federation-token');
    expect(loaded.printed).toContain('# token: [redacted] (set, from environment FEDTL_TOKEN)');
    expect(loaded.printed).toContain('minExamples: 20 # flag --min-examples');
    expect(loaded.printed).toContain('ackTimeoutMs: 60000 # default');
    // Its defaults of the other mode (--steps, --adapt-optimizer) come back from the file without being refused.
    const file = join(sandbox.dir, 'printed.yaml');
    writeFileSync(file, loaded.printed);
    expect(parseClientConfig(['--config', file], env)).toEqual(clientConfigFrom(loaded));
  });

  it('ignores federation options set only in the environment under --adapt-only: they are there for every command', () => {
    const env = { FEDTL_TOKEN: 'a-very-secret-federation-token', FEDTL_COORDINATOR: 'http://127.0.0.1:8080', FEDTL_TOKEN_FILE: join(sandbox.dir, 'absent'), FEDTL_TLS_CERT: 'client.crt' };
    const config = parseClientConfig(['--adapt-only', '--init-from', 'r', '--data', 'd.jsonl'], env);
    expect(config).toMatchObject({ coordinator: '', token: '', adaptOnly: { initFrom: 'r' } });
    expect(config).not.toHaveProperty('tlsCert');
  });
});
