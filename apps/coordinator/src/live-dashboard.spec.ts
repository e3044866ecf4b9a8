// The live dashboard's Socket.IO namespace over real sockets: the status API's token rules at connect (a refusal
// is a connect_error with its reason), the status pushed on connect, and the fence between the dashboard and the
// federation (a dashboard connection counts against no federation cap and cannot open the federation namespace).
// Plus the page itself: nothing it loads comes from outside the coordinator.
import { join as joinPath } from 'node:path';
import { Manager, io, type Socket } from 'socket.io-client';
import { configureLogging } from '@fedtl/util';
import { useTestSandbox, waitUntil } from '@fedtl/util/testing';
import { parseCoordinatorConfig } from './config';
import { DASHBOARD_HANDSHAKE_PARAM } from './dashboard/dashboard-handshake';
import { DASHBOARD_HTML } from './dashboard/dashboard-page';
import type { RunStatusSnapshot } from './dashboard/run-status';
import { startCoordinator, type StartedCoordinator } from './run-coordinator';
import { FEATURE_DIM } from './testing/federation-harness';

const TOKEN = 'live-federation-0b7c4e19d2';
const OPERATOR = 'live-operator-5f1a83c6e7';

/** Resolves with the socket's first status push, or rejects with its connect_error. */
function firstStatus(socket: Socket): Promise<RunStatusSnapshot> {
  return new Promise((resolve, reject) => {
    socket.once('status', resolve);
    socket.once('connect_error', reject);
  });
}

function connectError(socket: Socket): Promise<Error & { data?: { code?: string } }> {
  return new Promise((resolve, reject) => {
    socket.once('connect_error', resolve);
    socket.once('connect', () => reject(new Error('connected, expected a connect_error')));
  });
}

describe('the live dashboard namespace', () => {
  const sandbox = useTestSandbox();
  let started: StartedCoordinator;

  beforeAll(() => {
    configureLogging({ level: 'error' });
  });

  beforeEach(async () => {
    const config = parseCoordinatorConfig(
      ['--port', '0', '--out-dir', joinPath(sandbox.dir, 'out'), '--backbone', `precomputed:${FEATURE_DIM}`, '--labels', 'a,b', '--adapter-width', '4', '--rounds', '1', '--min-clients', '2'],
      { FEDTL_TOKEN: TOKEN, FEDTL_OPERATOR_TOKEN: OPERATOR },
    );
    started = await startCoordinator(config);
    sandbox.defer(() => started.stop());
  });

  /** A dashboard's connection, as the page opens it. */
  function dashboard(token: string | undefined, namespace = '/dashboard'): Socket {
    const socket = io(`${started.url}${namespace}`, {
      transports: ['websocket'],
      query: { [DASHBOARD_HANDSHAKE_PARAM]: '1' },
      auth: token === undefined ? {} : { token },
      reconnection: false,
      forceNew: true,
    });
    sandbox.defer(() => socket.close());
    return socket;
  }

  it('refuses a missing or wrong token with a connect_error that says what to present', async () => {
    for (const token of [undefined, 'not-the-token-of-this-run']) {
      const error = await connectError(dashboard(token));
      expect(error.message).toBe('unauthorized: expected the operator token or the federation token as the auth token (the page\'s ?token=)');
      expect(error.data).toEqual({ code: 'FEDTL_ERR_UNAUTHORIZED' });
      // The refused connection is closed at once, not left holding a dashboard slot.
      await waitUntil(() => started.server.admission.openDashboardConnections === 0, 10_000, 'the refused connection to close');
    }
  });

  it("pushes each viewer the status /api/status would give it, at connect", async () => {
    const operator = await firstStatus(dashboard(OPERATOR));
    expect(operator).toMatchObject({ view: 'operator', phase: 'waiting for clients', roundsCompleted: 0, roundsPlanned: 1 });
    expect(Math.abs(operator.now - Date.now())).toBeLessThan(60_000);
    const member = await firstStatus(dashboard(TOKEN));
    expect(member).toMatchObject({ view: 'federation', clients: [] });
  });

  it('closes a dashboard connection that never presents a token within seconds, counting it as a failed authentication', async () => {
    // Its own coordinator, whose rate limit refuses an address after one failed authentication.
    const strict = await startCoordinator(
      parseCoordinatorConfig(
        ['--port', '0', '--out-dir', joinPath(sandbox.dir, 'strict'), '--backbone', `precomputed:${FEATURE_DIM}`, '--labels', 'a,b', '--rounds', '1', '--max-auth-failures', '1'],
        { FEDTL_TOKEN: TOKEN, FEDTL_OPERATOR_TOKEN: OPERATOR },
      ),
    );
    sandbox.defer(() => strict.stop());
    // A squatter: the dashboard's handshake, then silence (no namespace, no token).
    const squatter = new Manager(strict.url, { transports: ['websocket'], query: { [DASHBOARD_HANDSHAKE_PARAM]: '1' }, reconnection: false, autoConnect: false });
    await new Promise<void>((resolve, reject) => squatter.open((err) => (err ? reject(err) : resolve())));
    sandbox.defer(() => squatter.engine?.close());
    expect(strict.server.admission.openDashboardConnections).toBe(1);
    // Closed well before Socket.IO's default 45 s connect timeout, so it cannot hold a dashboard slot for long...
    await waitUntil(() => strict.server.admission.openDashboardConnections === 0, 20_000, 'the silent dashboard connection to be closed');
    // ...and counted: with one failure allowed, the operator's own dashboard from the same address is refused now.
    const socket = io(`${strict.url}/dashboard`, { transports: ['websocket'], query: { [DASHBOARD_HANDSHAKE_PARAM]: '1' }, auth: { token: OPERATOR }, reconnection: false, forceNew: true });
    sandbox.defer(() => socket.close());
    const refused = await new Promise<boolean>((resolve) => {
      socket.once('connect_error', () => resolve(true));
      socket.once('status', () => resolve(false));
    });
    expect(refused).toBe(true);
  });

  it('counts dashboards against no federation cap, and keeps them out of the federation namespace', async () => {
    const watching = dashboard(OPERATOR);
    await firstStatus(watching);
    expect(started.server.admission.openDashboardConnections).toBe(1);
    expect(started.server.admission.openConnections).toBe(0);
    // The same kind of connection, aimed at the federation's namespace with the federation token.
    const error = await connectError(dashboard(TOKEN, '/'));
    expect(error.message).toBe('forbidden: this connection was admitted for the dashboard (namespace /dashboard) only');
    // A dashboard that sends anything is disconnected: the namespace reads nothing.
    const disconnected = new Promise<string>((resolve) => watching.once('disconnect', resolve));
    watching.emit('join', new Uint8Array([1, 2, 3]));
    expect(await disconnected).toBe('io server disconnect');
    await waitUntil(() => started.server.admission.openDashboardConnections === 0, 10_000, 'the dashboard connection to close');
    expect(started.coordinator.registry.size).toBe(0);
  });
});

describe('the dashboard page', () => {
  it('loads nothing from outside the coordinator (it works offline)', () => {
    const urls = DASHBOARD_HTML.match(/\b(?:https?:|wss?:)?\/\/[^\s"'<>)]+/g) ?? [];
    // The SVG namespace is a name, never fetched.
    expect(urls.filter((url) => url !== 'http://www.w3.org/2000/svg')).toEqual([]);
    const sources = [...DASHBOARD_HTML.matchAll(/<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)="([^"]*)"/g)].map((m) => m[1]);
    expect(sources).toEqual(['dashboard/socket.io.min.js']);
  });
});
