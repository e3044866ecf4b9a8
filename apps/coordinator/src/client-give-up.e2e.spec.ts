// Errors that retrying cannot fix end a client process at once, with its catalogue code and exit status
// (apps/client/src/exit-codes.ts): a URL with a path, a certificate it does not trust, no client certificate
// for a coordinator that requires one, an https:// URL for a coordinator without TLS; a coordinator that stays
// unreachable ends it after --give-up-after-ms.
import { createServer } from 'node:net';
import { join } from 'node:path';
import { configureLogging } from '@fedtl/util';
import { makeTestCertificates, useTestSandbox, writeSyntheticFeatureFiles } from '@fedtl/util/testing';
import { FEATURE_DIM, startClientProcess, startCoordinatorProcess } from './testing/federation-harness';

/** A loopback port where nothing listens (bound, then released). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('a client ends at once on errors retrying cannot fix', () => {
  const sandbox = useTestSandbox();

  beforeAll(() => configureLogging({ level: 'error' }));

  async function featuresFile(): Promise<string> {
    const [file] = await writeSyntheticFeatureFiles(sandbox.dir, { clients: 1, dim: FEATURE_DIM, trainPerClient: 20, testPerClient: 10, seed: 1 });
    return file;
  }

  it('gives up on a coordinator that stays unreachable after --give-up-after-ms, exit 3', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const client = startClientProcess(url, 'client-1', await featuresFile(), ['--give-up-after-ms', '1500']);
    sandbox.processes.push(client);

    expect(await client.exited).toBe(3);
    expect(client.output()).toContain(`FEDTL_ERR_UNREACHABLE: expected to reach the coordinator at ${url} within 1500 ms (--give-up-after-ms)`);
  }, 60_000);

  it('refuses a coordinator URL with a path at once, exit 2', async () => {
    const client = startClientProcess('http://127.0.0.1:9/api/status', 'client-1', await featuresFile());
    sandbox.processes.push(client);

    expect(await client.exited).toBe(2);
    expect(client.output()).toContain('FEDTL_ERR_BAD_CONFIG: --coordinator: expected a URL without a path, such as http://127.0.0.1:9, got "http://127.0.0.1:9/api/status"');
  }, 60_000);

  it('ends with FEDTL_ERR_TLS, exit 2, when it does not trust the coordinator certificate (no --tls-ca)', async () => {
    const certs = makeTestCertificates(sandbox.dir);
    const { process: coordinator, url } = await startCoordinatorProcess(join(sandbox.dir, 'out'), [
      '--rounds', '1', '--min-clients', '1', '--tls-cert', certs.serverCert, '--tls-key', certs.serverKey,
    ]);
    sandbox.processes.push(coordinator);
    const client = startClientProcess(url, 'client-1', await featuresFile());
    sandbox.processes.push(client);

    expect(await client.exited).toBe(2);
    expect(client.output()).toMatch(/FEDTL_ERR_TLS: expected a certificate this client trusts from https:\/\/127\.0\.0\.1:\d+, got UNABLE_TO_VERIFY_LEAF_SIGNATURE .*--tls-ca FILE/);
  }, 60_000);

  it('ends with FEDTL_ERR_TLS, exit 2, at once when a coordinator requiring client certificates gets none', async () => {
    const certs = makeTestCertificates(sandbox.dir);
    const { process: coordinator, url } = await startCoordinatorProcess(join(sandbox.dir, 'out'), [
      '--rounds', '1', '--min-clients', '1', '--tls-cert', certs.serverCert, '--tls-key', certs.serverKey, '--tls-client-ca', certs.caCert,
    ]);
    sandbox.processes.push(coordinator);
    // Retrying would only meet the same alert: an hour's --give-up-after-ms makes a client that retries fail by timeout.
    const client = startClientProcess(url, 'client-1', await featuresFile(), ['--tls-ca', certs.caCert, '--give-up-after-ms', '3600000']);
    sandbox.processes.push(client);

    expect(await client.exited).toBe(2);
    expect(client.output()).toMatch(
      /FEDTL_ERR_TLS: expected the coordinator at https:\/\/127\.0\.0\.1:\d+ to accept this client's TLS handshake, got ERR_SSL_\w+ \(.*\); the coordinator requires a client certificate: pass --tls-cert FILE --tls-key FILE signed by its CA/,
    );
  }, 60_000);

  it('ends with FEDTL_ERR_TLS, exit 2, at once for an https:// URL to a coordinator without TLS', async () => {
    const { process: coordinator, url } = await startCoordinatorProcess(join(sandbox.dir, 'out'), ['--rounds', '1', '--min-clients', '1']);
    sandbox.processes.push(coordinator);
    const httpsUrl = url.replace(/^http:/, 'https:');
    const client = startClientProcess(httpsUrl, 'client-1', await featuresFile(), ['--give-up-after-ms', '3600000']);
    sandbox.processes.push(client);

    expect(await client.exited).toBe(2);
    expect(client.output()).toContain(`FEDTL_ERR_TLS: expected a TLS coordinator at ${httpsUrl}, got `);
    expect(client.output()).toContain(`: it speaks plain HTTP; use http:// instead of https:// (${url})`);
  }, 60_000);
});
