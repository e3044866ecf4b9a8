// Liveness and readiness over real HTTP: /healthz answers while the process serves; /readyz only while the
// coordinator can run rounds (listening, its checkpoints directory writable, the run not ended), with the reason
// otherwise.
import { mkdirSync, rmSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import { precomputedBackboneRef } from '@fedtl/model';
import { configureLogging } from '@fedtl/util';
import { useTestSandbox } from '@fedtl/util/testing';
import { parseCoordinatorConfig } from './config';
import { notReadyReason } from './dashboard/readiness';
import { startCoordinator } from './run-coordinator';
import { FEATURE_DIM } from './testing/federation-harness';
import { ProtocolClient } from './testing/protocol-client';

describe('/healthz and /readyz', () => {
  const sandbox = useTestSandbox();

  beforeAll(() => {
    configureLogging({ level: 'error' });
  });

  it('is ready while it can run rounds, and says why not when its checkpoints directory is gone or the run has ended', async () => {
    const outDir = joinPath(sandbox.dir, 'out');
    const config = parseCoordinatorConfig(['--port', '0', '--out-dir', outDir, '--backbone', `precomputed:${FEATURE_DIM}`, '--labels', 'a,b', '--adapter-width', '4', '--rounds', '1', '--min-clients', '2']);
    const started = await startCoordinator(config);
    sandbox.defer(() => started.stop());
    const get = async (path: string) => {
      const res = await fetch(`${started.url}${path}`);
      return { code: res.status, body: await res.text() };
    };
    expect(await get('/healthz')).toEqual({ code: 200, body: 'ok\n' });
    expect(await get('/readyz')).toEqual({ code: 200, body: 'ready\n' });

    const checkpoints = joinPath(outDir, 'checkpoints');
    rmSync(checkpoints, { recursive: true });
    expect(await get('/readyz')).toEqual({ code: 503, body: `not ready: the checkpoints directory ${checkpoints} is not writable (ENOENT): no round could be checkpointed\n` });
    expect((await get('/healthz')).code).toBe(200);
    mkdirSync(checkpoints);
    expect((await get('/readyz')).code).toBe(200);

    for (const id of ['org-1', 'org-2']) {
      const c = new ProtocolClient(started.url, id, precomputedBackboneRef(FEATURE_DIM));
      sandbox.defer(() => c.close());
      c.onPlan(async (plan) => void (await c.sendUpdate(plan)));
      expect((await c.join({ numTestExamples: 0 })).ok).toBe(true);
    }
    await started.finished;
    expect(await get('/readyz')).toEqual({ code: 503, body: 'not ready: the run has ended (finished after 1 rounds): no more rounds will run\n' });
    expect(await get('/healthz')).toEqual({ code: 200, body: 'ok\n' });
  });

  it('is not ready before the server listens nor while it closes', async () => {
    const state = { stopped: false, checkpointsDir: sandbox.dir };
    expect(await notReadyReason({ ...state, server: 'starting' })).toBe('starting: the server is not listening yet');
    expect(await notReadyReason({ ...state, server: 'closing' })).toBe('shutting down: the server is closing');
    expect(await notReadyReason({ ...state, server: 'listening' })).toBeUndefined();
  });
});
