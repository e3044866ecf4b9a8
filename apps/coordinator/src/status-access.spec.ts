// The status API's access over real HTTP: the operator token sees every client, the federation token only
// run-level aggregates, anything else nothing; without tokens, only this machine gets the full view.
import { join as joinPath } from 'node:path';
import { precomputedBackboneRef } from '@fedtl/model';
import { configureLogging } from '@fedtl/util';
import { useTestSandbox, waitUntil } from '@fedtl/util/testing';
import { parseCoordinatorConfig } from './config';
import type { RunStatusSnapshot } from './dashboard/run-status';
import { federationView, statusViewer } from './dashboard/status-access';
import type { IncomingMessage } from 'node:http';
import { startCoordinator } from './run-coordinator';
import { FEATURE_DIM } from './testing/federation-harness';
import { ProtocolClient } from './testing/protocol-client';

const TOKEN = 'federation-6e2b9d0c41a7';
const OPERATOR = 'operator-13f8a5c7e09d';

describe('status API access', () => {
  const sandbox = useTestSandbox();

  beforeAll(() => {
    configureLogging({ level: 'error' });
  });

  async function start(env: Record<string, string>) {
    const config = parseCoordinatorConfig(
      ['--port', '0', '--out-dir', joinPath(sandbox.dir, 'out'), '--backbone', `precomputed:${FEATURE_DIM}`, '--labels', 'a,b', '--adapter-width', '4', '--rounds', '1', '--min-clients', '2', '--min-available', '3'],
      env,
    );
    const started = await startCoordinator(config);
    sandbox.defer(() => started.stop());
    const clients = ['org-1', 'org-2', 'org-3'].map((id) => {
      const c = new ProtocolClient(started.url, id, precomputedBackboneRef(FEATURE_DIM), { token: env.FEDTL_TOKEN });
      sandbox.defer(() => c.close());
      c.onPlan(async (plan) => void (await c.sendUpdate(plan)));
      return c;
    });
    const status = async (secret?: string) => {
      const res = await fetch(`${started.url}/api/status`, { headers: secret ? { authorization: `Bearer ${secret}` } : {} });
      return { code: res.status, body: res.status === 200 ? ((await res.json()) as RunStatusSnapshot) : undefined };
    };
    // Two join and wait for the third: the status names them while they wait; the third starts the run.
    for (const c of clients.slice(0, 2)) expect((await c.join()).ok).toBe(true);
    const waiting = { operator: (await status(env.FEDTL_OPERATOR_TOKEN)).body, member: (await status(env.FEDTL_TOKEN)).body };
    expect((await clients[2].join()).ok).toBe(true);
    await started.finished;
    await waitUntil(() => started.coordinator.phase === 'finished', 5000, 'the run to finish');
    return { started, status, waiting };
  }

  it('shows the operator every client and a federation-token holder run-level aggregates only', async () => {
    const { status, waiting } = await start({ FEDTL_TOKEN: TOKEN, FEDTL_OPERATOR_TOKEN: OPERATOR });
    expect(waiting.operator).toMatchObject({ view: 'operator', clientsConnected: 2, clients: [{ clientId: 'org-1', numTrainExamples: 40 }, { clientId: 'org-2' }] });
    expect(waiting.member).toMatchObject({ view: 'federation', clientsConnected: 2, clients: [] });
    const operator = (await status(OPERATOR)).body;
    expect(operator?.rounds[0]).toMatchObject({ accepted: ['org-1', 'org-2', 'org-3'], acceptedCount: 3, selectedCount: 3 });

    const member = (await status(TOKEN)).body;
    expect(member).toMatchObject({ view: 'federation', roundsCompleted: 1 });
    expect(member?.rounds[0]).toMatchObject({ accepted: [], selected: [], failures: [], clients: {}, acceptedCount: 3, selectedCount: 3, status: 'aggregated' });
    expect(JSON.stringify(member)).not.toContain('org-');

    expect((await status()).code).toBe(401);
    expect((await status('a-wrong-secret-of-some-length')).code).toBe(401);
  });

  it('without an operator token, gives nobody the per-client view', async () => {
    const { status, waiting } = await start({ FEDTL_TOKEN: TOKEN });
    expect(waiting.member).toMatchObject({ view: 'federation', clientsConnected: 2, clients: [] });
    expect((await status(TOKEN)).body).toMatchObject({ view: 'federation', clients: [] });
    expect((await status()).code).toBe(401);
  });
});

describe('the federation view of the privacy ledger', () => {
  it("keeps the run's epsilon but names whose data it was measured on only to that client", () => {
    const spent = [{ unit: 'record' as const, epsilon: 3.2, delta: 1e-5, subject: 'org-2', events: 4 }];
    const events = [
      { round: 1, unit: 'record' as const, mechanism: 'poisson-sampled-gaussian' as const, samplingRate: 0.1, noiseMultiplier: 1, steps: 10, subject: 'org-1' },
      { round: 1, unit: 'record' as const, mechanism: 'poisson-sampled-gaussian' as const, samplingRate: 0.5, noiseMultiplier: 1, steps: 2, subject: 'org-2' },
    ];
    const snapshot = {
      clients: [], refusedJoins: [],
      rounds: [{ selected: ['org-1', 'org-2'], accepted: [], failures: [], clients: {}, privacy: { events, spent } }],
      privacy: { mechanism: { unit: 'record', clipNorm: 1, noiseMultiplier: 1 }, delta: 1e-5, spent, events: 2 },
    } as unknown as RunStatusSnapshot;
    const org1 = federationView(snapshot, ['org-1']);
    expect(org1.privacy?.spent).toEqual([{ unit: 'record', epsilon: 3.2, delta: 1e-5, events: 4 }]);
    expect(org1.rounds[0].privacy?.events.map((e) => e.subject)).toEqual(['org-1']);
    expect(federationView(snapshot, ['org-2']).privacy?.spent).toEqual(spent);
  });
});

describe('status access with per-client tokens and no shared token', () => {
  const request = (remoteAddress: string, authorization?: string) =>
    ({ headers: authorization ? { authorization } : {}, socket: { remoteAddress } }) as unknown as IncomingMessage;
  const url = new URL('http://coordinator/api/status');
  const options = { token: '', operatorToken: OPERATOR, mutualTls: false, clientTokens: true };

  it('denies another machine without the operator token (the federation is not unauthenticated), and admits the operator', () => {
    expect(statusViewer(request('192.0.2.2'), url, options)).toEqual({ view: 'denied' });
    expect(statusViewer(request('192.0.2.2', 'Bearer fedtl_0123456789abcdef_whatever'), url, options)).toEqual({ view: 'denied' });
    expect(statusViewer(request('192.0.2.2', `Bearer ${OPERATOR}`), url, options)).toEqual({ view: 'operator' });
    // Without a token store nothing guards the federation: the old rule, a federation view.
    expect(statusViewer(request('192.0.2.2'), url, { ...options, clientTokens: false })).toMatchObject({ view: 'federation' });
  });
});
