// Test support: runs the real coordinator and client entry points as separate processes on loopback, with
// precomputed synthetic features, and reads back what they wrote (checkpoints, audited updates).
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeUpdate, type NamedTensor, type Update } from '@fedtl/protocol';
import { precomputedBackboneRef } from '@fedtl/model';
import { spawnFedtl, waitUntil, type TestSandbox, type TsProcess } from '@fedtl/util/testing';
import { decodeCheckpoint } from '../checkpoint-store';
import { parseCoordinatorConfig } from '../config';
import { startCoordinator, type StartedCoordinator } from '../run-coordinator';
import { ProtocolClient, type ProtocolClientOptions } from './protocol-client';

export const FEATURE_DIM = 12;

/** The model every harness coordinator runs (the flags of startCoordinatorProcess and startScriptedFederation). */
export const HARNESS_SPEC = { inputDim: FEATURE_DIM, adapterWidth: 4, head: 'linear' as const, headHidden: 64, labels: ['a', 'b'] };

/** The precomputed features' dimension (default FEATURE_DIM); coordinator and clients must agree on it. */
export interface HarnessOptions {
  dim?: number;
  /** Record every update under OUT/audit (default true; secure aggregation refuses it). */
  audit?: boolean;
}

export async function startCoordinatorProcess(outDir: string, args: string[], options: HarnessOptions = {}): Promise<{ process: TsProcess; url: string }> {
  const readyFile = join(outDir, 'ready.json');
  const process = spawnFedtl(['coordinator', 
    '--port', '0', '--out-dir', outDir, '--ready-file', readyFile, ...(options.audit === false ? [] : ['--audit-dir', join(outDir, 'audit')]),
    '--backbone', `precomputed:${options.dim ?? FEATURE_DIM}`, '--labels', 'a,b', '--adapter-width', '4',
    '--local-epochs', '2', '--batch-size', '16', '--learning-rate', '0.05', '--log-level', 'warn', '--log-format', 'json',
    ...args,
  ]);
  await waitUntil(() => existsSync(readyFile) || process.child.exitCode !== null, 60_000, 'the coordinator to listen');
  if (!existsSync(readyFile)) throw new Error(`coordinator exited early:\n${process.output()}`);
  const { url } = JSON.parse(await readFile(readyFile, 'utf8'));
  return { process, url };
}

export function startClientProcess(url: string, clientId: string, featuresFile: string, extra: string[] = [], options: HarnessOptions = {}): TsProcess {
  return spawnFedtl([
    'client', '--coordinator', url, '--client-id', clientId, '--features', featuresFile,
    '--backbone', `precomputed:${options.dim ?? FEATURE_DIM}`, '--backend', 'cpu', '--log-level', 'warn', '--log-format', 'json', ...extra,
  ]);
}

export async function readCheckpointWeights(outDir: string, round: number): Promise<NamedTensor[]> {
  const path = join(outDir, 'checkpoints', `round-${String(round).padStart(6, '0')}.ckpt`);
  return decodeCheckpoint(await readFile(path), path).weights;
}

export async function readAuditedUpdates(outDir: string, round: number): Promise<Update[]> {
  const dir = join(outDir, 'audit', `round-${String(round).padStart(6, '0')}`);
  const names = (await readdir(dir)).filter((n) => n.endsWith('.update.pb')).sort();
  return Promise.all(names.map(async (name) => decodeUpdate(await readFile(join(dir, name)))));
}

/** FedAvg computed independently in float64: global + Σ nᵢ·δᵢ / Σ nᵢ. */
export function referenceFedAvg(global: NamedTensor[], updates: Update[]): NamedTensor[] {
  const total = updates.reduce((sum, u) => sum + u.numExamples, 0);
  return global.map((tensor) => {
    const sums = new Float64Array(tensor.data.length);
    for (const update of updates) {
      const delta = update.delta.find((d) => d.name === tensor.name);
      if (!delta) throw new Error(`update from ${update.clientId} lacks ${tensor.name}`);
      for (let i = 0; i < sums.length; i++) sums[i] += (update.numExamples / total) * delta.data[i];
    }
    return { ...tensor, data: Float32Array.from(tensor.data, (value, i) => value + sums[i]) };
  });
}

export function maxAbsDifference(a: NamedTensor[], b: NamedTensor[]): number {
  let max = 0;
  for (const tensor of a) {
    const other = b.find((t) => t.name === tensor.name);
    if (!other) return Infinity;
    for (let i = 0; i < tensor.data.length; i++) max = Math.max(max, Math.abs(tensor.data[i] - other.data[i]));
  }
  return max;
}

/**
 * An in-process coordinator on precomputed features of FEATURE_DIM, labels a and b, with an audit trail in
 * `<out-dir>/audit` unless `audit: false` (stopped after the test; out-dir default `<sandbox>/out`), and a factory of scripted protocol clients of it (closed after
 * the test). `args` add to or override the base flags.
 */
export async function startScriptedFederation(
  sandbox: TestSandbox,
  args: string[],
  options: { audit?: boolean; outDir?: string } = {},
): Promise<{ started: StartedCoordinator; client: (id: string, options?: ProtocolClientOptions) => ProtocolClient }> {
  const outDir = options.outDir ?? join(sandbox.dir, 'out');
  const config = parseCoordinatorConfig([
    '--port', '0', '--out-dir', outDir, ...(options.audit === false ? [] : ['--audit-dir', join(outDir, 'audit')]),
    '--backbone', `precomputed:${FEATURE_DIM}`, '--labels', 'a,b', '--adapter-width', '4', '--local-epochs', '2',
    '--batch-size', '16', '--learning-rate', '0.05', '--seed', '5', ...args,
  ]);
  const started = await startCoordinator(config);
  sandbox.defer(() => started.stop());
  const backbone = precomputedBackboneRef(FEATURE_DIM);
  const client = (id: string, options?: ProtocolClientOptions) => {
    const c = new ProtocolClient(started.url, id, backbone, options);
    sandbox.defer(() => c.close());
    return c;
  };
  return { started, client };
}
