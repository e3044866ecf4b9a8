// FedProx through the real coordinator and client processes: the round plan carries --proximal-mu to the
// clients, which train under μ/2·‖w − w_global‖². Same seed, same data, same first-round global weights: every
// client's round-1 delta (from the audit trail) is shorter under fedprox than under fedavg, and the checkpoint
// is still the FedAvg mean of those deltas.
import { join } from 'node:path';
import { initialWeights } from '@fedtl/model';
import type { Update } from '@fedtl/protocol';
import { useTestSandbox, writeSyntheticFeatureFiles } from '@fedtl/util/testing';
import {
  FEATURE_DIM,
  maxAbsDifference,
  readAuditedUpdates,
  readCheckpointWeights,
  referenceFedAvg,
  startClientProcess,
  startCoordinatorProcess,
  HARNESS_SPEC,
} from './testing/federation-harness';

const SPEC = HARNESS_SPEC;
const SEED = 5;

function squaredNorm(update: Update): number {
  return update.delta.reduce((sum, t) => sum + Array.from(t.data).reduce((s, v) => s + v * v, 0), 0);
}

describe('FedProx across separate processes', () => {
  const sandbox = useTestSandbox();

  async function runOneRound(name: string, strategy: string[], files: string[]): Promise<string> {
    const outDir = join(sandbox.dir, name);
    const args = [...strategy, '--rounds', '1', '--min-clients', '2', '--seed', String(SEED), '--local-epochs', '5'];
    const { process: coordinator, url } = await startCoordinatorProcess(outDir, args);
    sandbox.processes.push(coordinator);
    const clients = files.map((file, i) => startClientProcess(url, `client-${i + 1}`, file));
    sandbox.processes.push(...clients);
    expect(await coordinator.exited).toBe(0);
    expect(await Promise.all(clients.map((c) => c.exited))).toEqual([0, 0]);
    return outDir;
  }

  it('carries --proximal-mu in the plan: the same clients move less from the same global weights, aggregated as FedAvg', async () => {
    const files = await writeSyntheticFeatureFiles(sandbox.dir, { clients: 2, dim: FEATURE_DIM, trainPerClient: [32, 48], testPerClient: 10, seed: 4 });
    const fedavgDir = await runOneRound('fedavg', ['--strategy', 'fedavg'], files);
    const fedproxDir = await runOneRound('fedprox', ['--strategy', 'fedprox', '--proximal-mu', '1'], files);

    const plain = await readAuditedUpdates(fedavgDir, 1);
    const prox = await readAuditedUpdates(fedproxDir, 1);
    expect(prox.map((u) => [u.clientId, u.numExamples])).toEqual(plain.map((u) => [u.clientId, u.numExamples]));
    prox.forEach((update, k) => {
      const ratio = squaredNorm(update) / squaredNorm(plain[k]);
      expect([update.clientId, ratio > 0 && ratio < 0.95]).toEqual([update.clientId, true]);
    });

    // The server side is FedAvg's: global + the example-weighted mean of the audited deltas.
    const global = initialWeights(SPEC, SEED);
    expect(maxAbsDifference(await readCheckpointWeights(fedproxDir, 1), referenceFedAvg(global, prox))).toBeLessThan(1e-6);
    expect(maxAbsDifference(await readCheckpointWeights(fedavgDir, 1), referenceFedAvg(global, plain))).toBeLessThan(1e-6);
  }, 180_000);
});
