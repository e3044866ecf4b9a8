// kill -9 the coordinator mid-round, restart it on the same port and directory: it resumes from its last
// checkpoint, re-runs the interrupted round, and finishes with exactly the weights of an uninterrupted run.
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { useTestSandbox, waitUntil, writeSyntheticFeatureFiles } from '@fedtl/util/testing';
import type { RoundRecord } from './metrics-log';
import { FEATURE_DIM, maxAbsDifference, readCheckpointWeights, startClientProcess, startCoordinatorProcess } from './testing/federation-harness';

const ROUNDS = 4;
const COMMON = ['--rounds', String(ROUNDS), '--min-clients', '3', '--seed', '21', '--rejoin-grace-ms', '20000'];

describe('coordinator crash and restart', () => {
  const sandbox = useTestSandbox();

  async function runFederation(outDir: string, files: string[], crashDuringRound?: number): Promise<void> {
    const first = await startCoordinatorProcess(outDir, COMMON);
    sandbox.processes.push(first.process);
    const clients = files.map((file, i) => startClientProcess(first.url, `client-${i + 1}`, file));
    sandbox.processes.push(...clients);
    if (crashDuringRound !== undefined) {
      const auditDir = join(outDir, 'audit', `round-${String(crashDuringRound).padStart(6, '0')}`);
      // Mid-round: the previous round is checkpointed and at least one update of this round has arrived.
      await waitUntil(async () => existsSync(auditDir) && (await readdir(auditDir)).length >= 1, 60_000, `an update of round ${crashDuringRound}`);
      first.process.child.kill('SIGKILL');
      await first.process.exited;
      const port = new URL(first.url).port;
      const restarted = await startCoordinatorProcess(outDir, [...COMMON, '--port', port]);
      sandbox.processes.push(restarted.process);
      expect(await restarted.process.exited).toBe(0);
    } else {
      expect(await first.process.exited).toBe(0);
    }
    expect(await Promise.all(clients.map((c) => c.exited))).toEqual([0, 0, 0]);
  }

  it('resumes, re-runs the interrupted round and ends with the weights of an uninterrupted run', async () => {
    // client-3 holds far more data, so it is still training when the first update of a round arrives: the
    // crash below lands mid-round, never between a round's last update and its checkpoint.
    const files = await writeSyntheticFeatureFiles(sandbox.dir, { clients: 3, dim: FEATURE_DIM, trainPerClient: [30, 45, 2400], testPerClient: 20, seed: 8 });
    const reference = join(sandbox.dir, 'reference');
    const crashed = join(sandbox.dir, 'crashed');
    await runFederation(reference, files);
    await runFederation(crashed, files, 3);

    const records: RoundRecord[] = (await readFile(join(crashed, 'metrics.jsonl'), 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l));
    expect(records.filter((r) => r.status === 'aggregated').map((r) => r.round)).toEqual([1, 2, 3, 4]);
    for (let round = 1; round <= ROUNDS; round++) {
      const difference = maxAbsDifference(await readCheckpointWeights(crashed, round), await readCheckpointWeights(reference, round));
      expect([round, difference < 1e-6]).toEqual([round, true]);
    }
    const summary = JSON.parse(await readFile(join(crashed, 'summary.json'), 'utf8'));
    expect(summary).toMatchObject({ roundsCompleted: ROUNDS, resumedFrom: 2 });
  }, 180_000);
});
