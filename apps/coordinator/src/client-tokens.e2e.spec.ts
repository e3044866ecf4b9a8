// Per-client tokens over real sockets: a client process and a scripted client join with their own tokens from
// <out-dir>/tokens.json; revoking one while the coordinator runs disconnects that client at once with the reason;
// a token under another client id, a token of another run's store and a revoked token are refused; the shared
// federation token still admits.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { configureLogging } from '@fedtl/util';
import { useTestSandbox, waitUntil, writeSyntheticFeatureFiles } from '@fedtl/util/testing';
import { issueToken, revokeTokens } from './credentials/token-store';
import type { RoundRecord } from './metrics-log';
import { runTokenCommand } from './credentials/token-command';
import { FEATURE_DIM, startClientProcess, startScriptedFederation } from './testing/federation-harness';
import type { ProtocolClient } from './testing/protocol-client';

const SHARED = 'shared-federation-7f3a9c2e41';

/** How a connection attempt ended: 'connected', or the connect_error's message (a refused handshake's HTTP status). */
function connectOutcome(client: ProtocolClient): Promise<string> {
  return new Promise((resolve) => {
    if (client.socket.connected) resolve('connected');
    client.socket.once('connect', () => resolve('connected'));
    client.socket.once('connect_error', (err: Error & { description?: { message?: string } }) => resolve(err.description?.message ?? err.message));
  });
}

async function joinOutcome(client: ProtocolClient): Promise<string> {
  const reply = await client.join();
  return reply.ok ? 'welcomed' : `${reply.error.code}: ${reply.error.message}`;
}

describe('per-client tokens', () => {
  const sandbox = useTestSandbox();

  beforeAll(() => {
    configureLogging({ level: 'error' });
  });

  it('admits each client with its own token, refuses it under another id or from another store, and disconnects a revoked one at once', async () => {
    const outDir = join(sandbox.dir, 'out');
    const org1 = await issueToken(join(outDir, 'tokens.json'), 'org-1');
    const org2 = await issueToken(join(outDir, 'tokens.json'), 'org-2');
    const foreign = await issueToken(join(sandbox.dir, 'other-run', 'tokens.json'), 'org-9');
    const org1File = join(sandbox.dir, 'org-1.token');
    await writeFile(org1File, `${org1.token}\n`, { mode: 0o600 });

    // No round starts (10 clients needed): the clients stay joined while the store changes under the coordinator.
    const { started, client } = await startScriptedFederation(sandbox, ['--token', SHARED, '--min-clients', '10', '--rounds', '1']);
    expect(started.credentials?.path).toBe(join(outDir, 'tokens.json'));

    const [features] = await writeSyntheticFeatureFiles(sandbox.dir, { clients: 1, dim: FEATURE_DIM, trainPerClient: 20, testPerClient: 5, seed: 3 });
    const org1Process = startClientProcess(started.url, 'org-1', features, ['--token-file', org1File]);
    sandbox.processes.push(org1Process);
    const second = client('org-2', { token: org2.token });
    expect(await joinOutcome(second)).toBe('welcomed');
    await waitUntil(() => started.coordinator.registry.has('org-1'), 60_000, 'the org-1 process to join');
    expect(started.coordinator.registry.get('org-1')?.tokenId).toBe(org1.listing.tokenId);
    expect(started.coordinator.registry.get('org-2')?.tokenId).toBe(org2.listing.tokenId);

    // org-2's token presented by a client calling itself org-3: a valid token, so the handshake admits it; the Join binds it.
    const impostor = client('org-3', { token: org2.token });
    expect(await joinOutcome(impostor)).toBe(`FEDTL_ERR_UNAUTHORIZED: expected a join as "org-2", the client token ${org2.listing.tokenId} was issued to, got one as "org-3"`);
    impostor.close();

    // A token of another out-dir's store is refused at the handshake, as is a missing one.
    expect(await connectOutcome(client('org-9', { token: foreign.token }))).toContain('401');
    expect(await connectOutcome(client('org-4'))).toContain('401');

    // The shared federation token still admits, with no token id recorded.
    const quickStart = client('org-5', { token: SHARED });
    expect(await joinOutcome(quickStart)).toBe('welcomed');
    expect(started.coordinator.registry.get('org-5')?.tokenId).toBeUndefined();

    // Revoking with the command while the coordinator runs: both holders are told why, then disconnected.
    const secondGone = new Promise((resolve) => second.socket.once('disconnect', resolve));
    let stderr = '';
    expect(await runTokenCommand(['revoke', '--out-dir', outDir, '--client', 'org-2'], { stdout: () => undefined, stderr: (text) => (stderr += text) })).toBe(0);
    expect(stderr).toContain(`revoked token ${org2.listing.tokenId} of client org-2`);
    expect(await runTokenCommand(['revoke', '--out-dir', outDir, '--token-id', org1.listing.tokenId], { stdout: () => undefined, stderr: () => undefined })).toBe(0);
    await secondGone;
    expect(second.coordinatorErrors).toEqual([{ code: 'FEDTL_ERR_UNAUTHORIZED', message: `token ${org2.listing.tokenId} for client org-2 was revoked` }]);
    expect(await org1Process.exited).toBe(2);
    expect(org1Process.output()).toContain(`FEDTL_ERR_UNAUTHORIZED: the coordinator ended the session: token ${org1.listing.tokenId} for client org-1 was revoked`);
    await waitUntil(() => !started.coordinator.registry.has('org-1') && !started.coordinator.registry.has('org-2'), 30_000, 'the revoked clients to be gone');
    expect(started.coordinator.registry.has('org-5')).toBe(true);

    // A revoked token no longer opens a connection.
    expect(await connectOutcome(client('org-2', { token: org2.token }))).toContain('401');
  }, 180_000);

  it('takes a client revoked during a round out of it at once, without waiting for it to rejoin', async () => {
    const store = join(sandbox.dir, 'out', 'tokens.json');
    const org1 = await issueToken(store, 'org-1');
    const org2 = await issueToken(store, 'org-2');
    const { started, client } = await startScriptedFederation(sandbox, ['--min-clients', '1', '--min-available', '2', '--rounds', '1', '--rejoin-grace-ms', '600000', '--round-timeout-ms', '600000']);
    const rounds: RoundRecord[] = [];
    started.coordinator.on('round', (record) => rounds.push(record));
    const [first, second] = [client('org-1', { token: org1.token }), client('org-2', { token: org2.token })];
    expect([await joinOutcome(first), await joinOutcome(second)]).toEqual(['welcomed', 'welcomed']);

    const [plan] = await Promise.all([first.nextPlan(1), second.nextPlan(1)]);
    await revokeTokens(store, { tokenId: org2.listing.tokenId });
    await new Promise((resolve) => second.socket.once('disconnect', resolve));
    expect(await first.sendUpdate(plan)).toBe('accepted');
    await started.finished;
    const message = `token ${org2.listing.tokenId} for client org-2 was revoked`;
    expect(rounds.map((r) => [r.round, r.status, r.accepted, r.failures])).toEqual([[1, 'aggregated', ['org-1'], [{ clientId: 'org-2', code: 'FEDTL_ERR_UNAUTHORIZED', message }]]]);
    expect(second.coordinatorErrors).toEqual([{ code: 'FEDTL_ERR_UNAUTHORIZED', message }]);
  }, 180_000);
});
