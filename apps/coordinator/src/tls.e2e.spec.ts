// Real TLS and mutual TLS between separate coordinator and client processes, with certificates made for
// the test by openssl; connections without the right certificates are refused.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { precomputedBackboneRef } from '@fedtl/model';
import { makeClientCertificate, makeTestCertificates, useTestSandbox, writeSyntheticFeatureFiles } from '@fedtl/util/testing';
import { FEATURE_DIM, startClientProcess, startCoordinatorProcess } from './testing/federation-harness';
import { ProtocolClient } from './testing/protocol-client';

function connectError(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    socket.once('connect', () => resolve('connected'));
    socket.once('connect_error', (err) => resolve(err.message));
  });
}

describe('TLS', () => {
  const sandbox = useTestSandbox();

  it('runs a federation over mutual TLS and refuses clients without a trusted certificate', async () => {
    const certs = makeTestCertificates(sandbox.dir);
    const outDir = join(sandbox.dir, 'out');
    const { process: coordinator, url } = await startCoordinatorProcess(outDir, [
      '--rounds', '2', '--min-clients', '2', '--tls-cert', certs.serverCert, '--tls-key', certs.serverKey, '--tls-client-ca', certs.caCert,
    ]);
    sandbox.processes.push(coordinator);
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);

    const ca = readFileSync(certs.caCert, 'utf8');
    const untrusting = io(url, { transports: ['websocket'], reconnection: false, forceNew: true });
    const anonymous = io(url, { transports: ['websocket'], reconnection: false, forceNew: true, ca });
    sandbox.defer(() => [untrusting, anonymous].forEach((s) => s.disconnect()));
    expect(await connectError(untrusting)).not.toBe('connected');
    expect(await connectError(anonymous)).not.toBe('connected');

    // The certificate names the client: client-1's certificate cannot join as client-2.
    const own = [1, 2].map((i) => makeClientCertificate(sandbox.dir, `client-${i}`));
    const pem = (path: string) => readFileSync(path, 'utf8');
    const impostor = new ProtocolClient(url, 'client-2', precomputedBackboneRef(FEATURE_DIM), { tls: { ca, cert: pem(own[0].cert), key: pem(own[0].key) } });
    sandbox.defer(() => impostor.close());
    const refused = await impostor.join();
    expect(refused.ok ? 'welcomed' : `${refused.error.code}: ${refused.error.message}`).toBe(
      'FEDTL_ERR_UNAUTHORIZED: expected the client certificate to name the client id "client-2" (subject CN or a DNS subjectAltName), got "client-1"',
    );
    impostor.close();

    const files = await writeSyntheticFeatureFiles(sandbox.dir, { clients: 2, dim: FEATURE_DIM, trainPerClient: 30, testPerClient: 10, seed: 2 });
    const clients = files.map((file, i) => startClientProcess(url, `client-${i + 1}`, file, ['--tls-ca', certs.caCert, '--tls-cert', own[i].cert, '--tls-key', own[i].key]));
    sandbox.processes.push(...clients);
    expect(await coordinator.exited).toBe(0);
    expect(await Promise.all(clients.map((c) => c.exited))).toEqual([0, 0]);
    const records = (await readFile(join(outDir, 'metrics.jsonl'), 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l));
    expect(records.map((r) => [r.round, r.status, r.accepted])).toEqual([
      [1, 'aggregated', ['client-1', 'client-2']],
      [2, 'aggregated', ['client-1', 'client-2']],
    ]);
  }, 90_000);
});
