import { FedtlError } from '@fedtl/util';
import { DEFAULT_GIVE_UP_AFTER_MS, parseClientConfig } from './config';

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

  it('accepts a URL without a path, with or without the trailing slash', () => {
    for (const url of ['http://127.0.0.1:8080', 'https://coordinator.example:8443/']) {
      expect(parseClientConfig(['--coordinator', url, ...base])).toMatchObject({ coordinator: url });
    }
  });

  it('gives up after --give-up-after-ms, ten minutes by default', () => {
    expect(parseClientConfig(['--coordinator', 'http://h:1', ...base])).toMatchObject({ giveUpAfterMs: DEFAULT_GIVE_UP_AFTER_MS });
    expect(parseClientConfig(['--coordinator', 'http://h:1', '--give-up-after-ms', '1500', ...base])).toMatchObject({ giveUpAfterMs: 1500 });
    expect(configError(['--coordinator', 'http://h:1', '--give-up-after-ms', '0', ...base]).code).toBe('FEDTL_ERR_BAD_CONFIG');
  });
});
