// Test support for the client's specs: small separable feature sets standing in for an organisation's data, and a
// coordinator process started on a free port. Labels are 'no' and 'yes'; the features have FIXTURE_DIM columns.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { precomputedBackboneRef } from '@fedtl/model';
import { spawnFedtl, waitUntil, type TestSandbox, type TsProcess } from '@fedtl/util/testing';
import { FederatedClient, type FederatedClientOptions } from '../federated-client';
import type { FeatureSplit, LocalData } from '../local-data';

export const FIXTURE_DIM = 8;

/** n rows, alternating 'yes' / 'no', separable on the first two columns, shifted by `shift` (another domain). */
export function fixtureSplit(n: number, shift: number): FeatureSplit {
  const features = new Float32Array(n * FIXTURE_DIM);
  const labels: string[] = [];
  for (let i = 0; i < n; i++) {
    const positive = i % 2 === 0;
    for (let j = 0; j < FIXTURE_DIM; j++) features[i * FIXTURE_DIM + j] = (positive ? 1.5 : -1.5) * (j < 2 ? 1 : 0) + shift + Math.sin(i * 7 + j);
    labels.push(positive ? 'yes' : 'no');
  }
  return { features, labels };
}

/** One organisation's data: 48 training and 24 test rows of fixtureSplit. */
export function fixtureLocalData(shift: number): LocalData {
  return { backbone: precomputedBackboneRef(FIXTURE_DIM), train: fixtureSplit(48, shift), test: fixtureSplit(24, shift), labelSet: ['no', 'yes'] };
}

/**
 * The real coordinator as a process on a free port (2 clients a round, this fixture's backbone and labels), its
 * output and exit in the sandbox. Resolves with its port once it listens.
 */
export async function startFixtureCoordinator(sandbox: TestSandbox, rounds: number, extra: string[] = []): Promise<{ port: number; process: TsProcess }> {
  const readyFile = join(sandbox.dir, 'ready.json');
  const process = spawnFedtl(['coordinator', 
    '--port', '0', '--ready-file', readyFile, '--out-dir', join(sandbox.dir, 'out'), '--rounds', String(rounds),
    '--min-clients', '2', '--backbone', `precomputed:${FIXTURE_DIM}`, '--labels', 'no,yes', '--adapter-width', '4',
    '--local-epochs', '2', '--batch-size', '16', '--learning-rate', '0.05', '--rejoin-grace-ms', '20000', '--log-level', 'warn', '--log-format', 'json', ...extra,
  ]);
  sandbox.processes.push(process);
  await waitUntil(() => existsSync(readyFile) || process.child.exitCode !== null, 60_000, 'the coordinator to listen');
  if (!existsSync(readyFile)) throw new Error(`the coordinator exited early:\n${process.output()}`);
  return { port: Number(new URL(JSON.parse(await readFile(readyFile, 'utf8')).url).port), process };
}

/**
 * A started FederatedClient on fixtureLocalData(shift), connecting to 127.0.0.1:port (plus `path`, to test a
 * wrong URL), on the cpu backend with quick reconnection, with `extra` options; closed when the test ends.
 */
export function startFixtureClient(sandbox: TestSandbox, port: number, clientId: string, shift: number, path = '', extra: Partial<FederatedClientOptions> = {}): FederatedClient {
  const client = new FederatedClient({
    url: `http://127.0.0.1:${port}${path}`,
    clientId,
    token: '',
    data: fixtureLocalData(shift),
    backend: 'cpu',
    ackTimeoutMs: 20_000,
    localBaselineEpochs: 0,
    seed: 1,
    reconnectDelayMs: 100,
    reconnectDelayMaxMs: 500,
    ...extra,
  });
  sandbox.defer(() => client.close());
  client.start();
  return client;
}
