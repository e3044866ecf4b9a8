// Admission at the handshake over real sockets: the token is checked before a WebSocket exists, open
// connections are capped per address, and failed authentications are rate-limited per address with sampled logs.
import { writeFileSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import { precomputedBackboneRef } from '@fedtl/model';
import { configureLogging } from '@fedtl/util';
import { useTestSandbox, waitUntil } from '@fedtl/util/testing';
import { parseCoordinatorConfig } from './config';
import { startCoordinator } from './run-coordinator';
import { FEATURE_DIM } from './testing/federation-harness';
import { ProtocolClient } from './testing/protocol-client';
import { rawHandshake } from './testing/raw-handshake';

const TOKEN = 'admission-test-4c1d9e0a7b';
const backbone = precomputedBackboneRef(FEATURE_DIM);

describe('handshake admission', () => {
  const sandbox = useTestSandbox();
  let lines: string[] = [];

  beforeEach(() => {
    lines = [];
    configureLogging({ level: 'warn', format: 'json', sink: { write: (line) => lines.push(line) } });
  });

  afterAll(() => {
    configureLogging({ level: 'error', sink: { write: (line) => process.stderr.write(line + '\n') } });
  });

  async function start(extra: string[] = []) {
    const config = parseCoordinatorConfig([
      '--port', '0', '--out-dir', joinPath(sandbox.dir, 'out'), '--backbone', `precomputed:${FEATURE_DIM}`, '--labels', 'a,b',
      '--adapter-width', '4', '--rounds', '1', '--min-clients', '2', '--token-file', tokenFile(), ...extra,
    ]);
    const started = await startCoordinator(config);
    sandbox.defer(() => started.stop());
    return started;
  }

  function tokenFile(): string {
    const path = joinPath(sandbox.dir, 'token');
    writeFileSync(path, TOKEN);
    return path;
  }

  it('refuses a handshake without the token before any WebSocket opens, so a 5 MB frame is never read', async () => {
    const started = await start();
    // Peers that send a large frame right behind the upgrade: none gets a WebSocket (the refusal's status may be
    // lost when the coordinator resets the connection under the unread frame).
    const peers: Array<Record<string, string>> = [{}, { Authorization: 'Bearer not-the-token-at-all' }];
    for (const headers of peers) {
      const attempt = await rawHandshake(started.url, headers, 5 * 1024 * 1024);
      expect(attempt.status === 101 ? 'upgraded' : 'refused').toBe('refused');
    }
    const refused = await rawHandshake(started.url, {});
    expect(refused.status).toBe(401);
    expect(refused.answer).toContain('X-Fedtl-Error: FEDTL_ERR_UNAUTHORIZED');
    expect(refused.answer).toContain('expected the federation token in "Authorization: Bearer <token>", got a missing or wrong one');
    expect(started.server.io.engine.clientsCount).toBe(0);
    expect(started.server.admission.openConnections).toBe(0);
    // The same request with the token is upgraded: the refusal above is the token's doing.
    expect((await rawHandshake(started.url, { Authorization: `Bearer ${TOKEN}` })).status).toBe(101);
  });

  it('caps open connections per remote address, and frees a slot when one closes', async () => {
    const started = await start(['--max-connections-per-address', '2']);
    const connected = (c: ProtocolClient) =>
      new Promise<string>((resolve) => {
        c.socket.once('connect', () => resolve('connected'));
        c.socket.once('connect_error', (err: Error & { description?: Error }) => resolve(String(err.description?.message ?? err.message)));
      });
    // One after the other, so which one is the third is certain.
    const clients: ProtocolClient[] = [];
    const outcomes: string[] = [];
    for (const id of ['one', 'two', 'three']) {
      const c = new ProtocolClient(started.url, id, backbone, { token: TOKEN });
      sandbox.defer(() => c.close());
      clients.push(c);
      outcomes.push(await connected(c));
    }
    expect(outcomes).toEqual(['connected', 'connected', 'Unexpected server response: 503']);
    clients[0].close();
    await waitUntil(() => started.server.admission.openConnections === 1, 5000, 'the closed connection to be released');
    const fourth = new ProtocolClient(started.url, 'four', backbone, { token: TOKEN });
    sandbox.defer(() => fourth.close());
    expect(await connected(fourth)).toBe('connected');
    expect(started.server.admission.openConnections).toBe(2);
  });

  it('rate-limits failed authentications per address without comparing the token, and logs them sampled', async () => {
    const started = await start(['--max-auth-failures', '3']);
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push((await rawHandshake(started.url, { Authorization: `Bearer guess-${i}-0000000000` })).status);
    expect(statuses).toEqual([401, 401, 401, ...Array(17).fill(429)]);
    // Once limited, even the right token is refused unread until the window passes.
    const limited = await rawHandshake(started.url, { Authorization: `Bearer ${TOKEN}` });
    expect(limited.status).toBe(429);
    expect(limited.answer).toContain('X-Fedtl-Error: FEDTL_ERR_RATE_LIMITED');
    expect(limited.answer).toMatch(/Retry-After: \d+/);

    started.server.admission.logSummary();
    const admissionEvents = lines.map((line) => JSON.parse(line)).filter((event) => event.module === 'admission');
    expect(admissionEvents).toEqual([
      expect.objectContaining({ msg: expect.stringContaining('refused a handshake: missing or wrong token') }),
      expect.objectContaining({ msg: 'refused handshakes since the last summary', failedAuthentications: 3, addresses: 1, rateLimited: 18 }),
    ]);
  });
});
