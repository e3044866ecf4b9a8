import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PERMISSIVE_POLICY } from '@fedtl/privacy';
import { FedtlError } from '@fedtl/util';
import { useTestSandbox } from '@fedtl/util/testing';
import { ADAPT_ONLY_DEFAULTS, DEFAULT_DP_DELTA, DEFAULT_GIVE_UP_AFTER_MS, parseClientConfig } from './config';
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

  it('turns the option parser\'s own refusals (a dash-led value, an unknown flag) into configuration errors', () => {
    const dashLed = configError([...base, '--max-rounds', '-1']);
    expect(dashLed.code).toBe('FEDTL_ERR_BAD_CONFIG');
    expect(dashLed.message).toMatch(/^command line: Option '--max-rounds' argument is ambiguous.*\(see --help\)$/s);
    expect(configError([...base, '--max-round', '2'])).toMatchObject({ code: 'FEDTL_ERR_BAD_CONFIG', message: expect.stringContaining("Unknown option '--max-round'") });
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

  it('reads the policy from a --config file, true or false for --require-secure-aggregation', () => {
    const file = join(sandbox.dir, 'client.json');
    writeFileSync(file, JSON.stringify({ requireSecureAggregation: true, minBatchSize: 8 }));
    expect(parseClientConfig([...base, '--config', file])).toMatchObject({ privacyPolicy: { ...PERMISSIVE_POLICY, requireSecureAggregation: true, minBatchSize: 8 } });
    writeFileSync(file, JSON.stringify({ requireSecureAggregation: 'yes' }));
    expect(configError([...base, '--config', file]).message).toBe('--require-secure-aggregation: expected no value on the command line, or true|false in a --config file, got "yes"');
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
    [['--dp-epsilon', '0'], '--dp-epsilon: expected a positive finite number, got "0"'],
    [['--dp-epsilon', 'Infinity'], '--dp-epsilon: expected a positive finite number, got "Infinity"'],
    [['--dp-delta', '0.5'], '--dp-delta: expected a number in (0, 0.01), e.g. 1e-5 (well below 1 / your training examples), got "0.5"'],
    [['--dp-delta', 'small'], '--dp-delta: expected a number in (0, 0.01), e.g. 1e-5 (well below 1 / your training examples), got "small"'],
    [['--dp-ledger='], '--dp-ledger: expected a file name, got ""'],
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
    const config = parseClientConfig(args);
    if (config === 'help') throw new Error('help');
    return config;
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
    [['--adapt-only', '--init-from', 'r', '--data', 'd.jsonl', '--adapt-learning-rate', 'NaN'], '--adapt-learning-rate: expected a positive finite number, got "NaN"'],
    [['--adapt-only', '--init-from', 'r', '--data', 'd.jsonl', '--adapt-optimizer', 'rmsprop'], '--adapt-optimizer: expected sgd|adam, got "rmsprop"'],
    [['--coordinator', 'http://127.0.0.1:1', '--client-id', 'a', '--data', 'd.jsonl', '--steps', '5'], '--steps: expected --adapt-only (the only mode that takes it), got "5"'],
    [['--adapt-only', '--init-from', 'r', '--data', 'd.jsonl', '--steps', '1e12'], '--steps: expected an integer in [1, 100000], got "1e12"'],
    [['--adapt-only', '--init-from', 'r', '--data', 'd.jsonl', '--steps', '99999999999999999999'], '--steps: expected an integer in [1, 100000], got "99999999999999999999"'],
    [['--adapt-only', '--init-from', 'r', '--data', 'd.jsonl', '--personalize-epochs', '5'], '--personalize-epochs: expected no federation option with --adapt-only (it joins no federation), got "5"'],
    [['--adapt-only', '--init-from', 'r', '--data', 'd.jsonl', '--token', 's'], '--token: expected no federation option with --adapt-only'],
    [['--adapt-only', '--init-from', 'r', '--data', 'd.jsonl', '--require-secure-aggregation'], '--require-secure-aggregation: expected no federation option with --adapt-only'],
  ])('refuses %j', (args, message) => {
    expect(() => parseClientConfig(args)).toThrow(message);
  });
});
