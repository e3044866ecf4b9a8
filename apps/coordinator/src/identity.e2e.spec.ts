// The duplicate-client-id case with real client processes: two organisations both configured as org-1. The
// second is refused with FEDTL_ERR_DUPLICATE_CLIENT and exits non-zero; the first keeps its session, trains and
// finishes the run.
import { join } from 'node:path';
import { configureLogging } from '@fedtl/util';
import { useTestSandbox, waitUntil, writeSyntheticFeatureFiles } from '@fedtl/util/testing';
import { parseCoordinatorConfig } from './config';
import type { RoundRecord } from './metrics-log';
import { startCoordinator } from './run-coordinator';
import { FEATURE_DIM, startClientProcess } from './testing/federation-harness';

describe('client identity', () => {
  const sandbox = useTestSandbox();

  beforeAll(() => {
    configureLogging({ level: 'error' });
  });

  it('refuses a second organisation under a live client id; the first trains on and finishes', async () => {
    const config = parseCoordinatorConfig([
      '--port', '0', '--out-dir', join(sandbox.dir, 'out'), '--backbone', `precomputed:${FEATURE_DIM}`, '--labels', 'a,b', '--adapter-width', '4',
      '--rounds', '2', '--min-clients', '2', '--local-epochs', '1', '--heartbeat-interval-ms', '500', '--heartbeat-timeout-ms', '5000',
    ]);
    const started = await startCoordinator(config);
    sandbox.defer(() => started.stop());
    const rounds: RoundRecord[] = [];
    started.coordinator.on('round', (record) => rounds.push(record));
    const [orgA, orgB, org2] = await writeSyntheticFeatureFiles(sandbox.dir, { clients: 3, dim: FEATURE_DIM, trainPerClient: 30, testPerClient: 10, seed: 4 });

    const first = startClientProcess(started.url, 'org-1', orgA);
    sandbox.processes.push(first);
    await waitUntil(() => started.coordinator.registry.has('org-1'), 60_000, 'the first org-1 to join');
    const firstExamples = started.coordinator.registry.get('org-1')?.join.numTrainExamples;

    const second = startClientProcess(started.url, 'org-1', orgB);
    sandbox.processes.push(second);
    expect(await second.exited).toBe(2);
    expect(second.output()).toContain('FEDTL_ERR_DUPLICATE_CLIENT');
    expect(started.coordinator.registry.get('org-1')?.join.numTrainExamples).toBe(firstExamples);

    const other = startClientProcess(started.url, 'org-2', org2);
    sandbox.processes.push(other);
    await started.finished;
    expect(await Promise.all([first.exited, other.exited])).toEqual([0, 0]);
    expect(rounds.map((r) => [r.round, r.status, r.accepted])).toEqual([
      [1, 'aggregated', ['org-1', 'org-2']],
      [2, 'aggregated', ['org-1', 'org-2']],
    ]);
  }, 120_000);
});
