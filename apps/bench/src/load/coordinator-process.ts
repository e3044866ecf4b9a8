// The real coordinator in its own process, so the memory the benchmark samples is the coordinator's alone and
// not the simulated clients'. Deadlines are generous: with hundreds of clients on two cores, a slow round is a
// measurement, not a failure.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { spawnFedtl, waitUntil, type TsProcess } from '@fedtl/util/testing';
import { coordinatorLabelArgs } from '../coordinator-labels';

export interface CoordinatorProcessOptions {
  outDir: string;
  clients: number;
  rounds: number;
  dim: number;
  adapterWidth: number;
  labels: string[];
}

export interface CoordinatorProcess {
  url: string;
  pid: number;
  process: TsProcess;
}

const DEADLINE_MS = 600_000;

export async function startCoordinatorProcess(options: CoordinatorProcessOptions): Promise<CoordinatorProcess> {
  return spawnCoordinator(options.outDir, await coordinatorProcessArgs(options));
}

/** The load test's coordinator options (after `--port 0 --out-dir …`); the labels go in a config file in outDir. */
export async function coordinatorProcessArgs(options: CoordinatorProcessOptions): Promise<string[]> {
  return [
    '--rounds', String(options.rounds), '--min-clients', String(options.clients), '--min-available', String(options.clients),
    '--round-timeout-ms', String(DEADLINE_MS), '--eval-timeout-ms', String(DEADLINE_MS),
    '--backbone', `precomputed:${options.dim}`, ...(await coordinatorLabelArgs(options.outDir, options.labels)), '--adapter-width', String(options.adapterWidth),
    // Every simulated client connects from loopback: the per-address cap must hold them all.
    '--max-connections-per-address', String(options.clients + 10), '--log-level', 'warn',
  ];
}

/**
 * `fedtl coordinator --port 0 --out-dir OUT_DIR --fresh ARGS…` in its own process; resolves once it listens
 * (its --ready-file is written). On failure it is killed and the error carries its output.
 */
export async function spawnCoordinator(outDir: string, args: readonly string[]): Promise<CoordinatorProcess> {
  const readyFile = join(outDir, 'ready.json');
  const process = spawnFedtl(['coordinator', '--port', '0', '--out-dir', outDir, '--ready-file', readyFile, '--fresh', ...args]);
  try {
    await waitUntil(() => existsSync(readyFile) || process.child.exitCode !== null, 60_000, 'the coordinator to listen');
    if (!existsSync(readyFile)) throw new Error('it exited');
  } catch (err) {
    await process.stop('SIGKILL');
    throw new Error(`the coordinator did not start listening (${(err as Error).message}):\n${process.output()}`);
  }
  const { url, pid } = JSON.parse(await readFile(readyFile, 'utf8')) as { url: string; pid: number };
  return { url, pid, process };
}
