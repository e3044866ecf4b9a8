// `fedtl bench secagg …`: time per round and bytes per client, secure aggregation vs plain FedAvg, side by
// side in one run. For each N and dropout fraction, the real coordinator runs in its own process (with and
// without --secure-aggregation, --secagg-threshold at its default: a majority) and N simulated clients in this
// process speak the real protocol over real sockets (secagg-sim-client.ts). Seconds per round and the
// coordinator's traffic come from its metrics.jsonl; bytes per client are counted at the clients.
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { precomputedBackboneRef } from '@fedtl/model';
import { configureLogging, createLogger } from '@fedtl/util';
import type { ResolvedOptions } from '@fedtl/util/options';
import { spawnFedtl, waitUntil, type TsProcess } from '@fedtl/util/testing';
import { machineInfo, type MachineInfo } from '../machine';
import { dropoutCount, secAggBenchOptionsFrom, SECAGG_OPTIONS, type SecAggBenchOptions } from './secagg-options';
import { secaggMarkdown, secaggTable } from './secagg-report';
import { SecAggSimClient, type ClientRoundStats } from './secagg-sim-client';
import { SuiteProgress } from '../suite-progress';

const LABELS = ['negative', 'neutral', 'positive'];
const DEADLINE_MS = 300_000;
const EVALUATION_EVENTS = new Set(['evaluate-request', 'evaluate-report']);

export type Mode = 'plain' | 'secagg';

export interface ConfigResult {
  mode: Mode;
  clients: number;
  dropoutFraction: number;
  /** Clients that dropped out of each round. */
  dropped: number;
  rounds: number;
  /** Rounds the coordinator recorded as aggregated, and how many clients each accepted. */
  aggregatedRounds: number;
  acceptedPerRound: number[];
  /** The coordinator's `seconds` per round (plans sent → round record, evaluation included), mean over rounds. */
  secondsPerRound: number;
  /** The coordinator's bytes per round (payloads both ways, all clients), mean over rounds. */
  coordinatorBytesUpPerRound: number;
  coordinatorBytesDownPerRound: number;
  /**
   * Bytes per surviving client and round, counted at the client: the round's protocol (plan, update or the
   * secure-aggregation messages, and their acks) without the evaluation, which is the same in both modes.
   */
  bytesUpPerClient: number;
  bytesDownPerClient: number;
  /** The evaluation's bytes per client and round (request with the model, report), both directions. */
  evaluationBytesPerClient: number;
  /** Per event, bytes per surviving client and round, both directions. */
  bytesByEvent: Record<string, { up: number; down: number }>;
  /** Mean ms per surviving client and round inside SecAggParticipant (secagg only). */
  clientCpuMs?: { advertise: number; shareKeys: number; mask: number; unmask: number };
  /** The model's float count, as the plans carried it. */
  modelFloats: number;
  clientErrors: string[];
  wallSeconds: number;
}

export interface SecAggBenchReport {
  machine: MachineInfo;
  options: SecAggBenchOptions;
  modelFloats: number;
  results: ConfigResult[];
  ok: boolean;
  seconds: number;
}

const log = createLogger('bench-secagg');

interface RoundLine {
  round: number;
  status: string;
  accepted: string[];
  bytesUp: number;
  bytesDown: number;
  seconds: number;
}

async function readRounds(path: string): Promise<RoundLine[]> {
  if (!existsSync(path)) return [];
  const text = await readFile(path, 'utf8');
  return text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as RoundLine);
}

function startCoordinator(outDir: string, mode: Mode, options: SecAggBenchOptions, clients: number, dropped: number): TsProcess {
  return spawnFedtl(['coordinator',
    '--port', '0', '--out-dir', outDir, '--ready-file', join(outDir, 'ready.json'), '--fresh',
    // All N connected before a round starts and all selected; the quorum is the survivors.
    '--rounds', String(options.rounds), '--min-clients', String(clients - dropped), '--min-available', String(clients),
    '--round-timeout-ms', String(DEADLINE_MS), '--eval-timeout-ms', String(DEADLINE_MS),
    '--backbone', `precomputed:${options.dim}`, '--labels', LABELS.join(','), '--adapter-width', String(options.adapterWidth),
    '--max-connections-per-address', String(2 * clients + 10), '--log-level', 'warn', '--seed', String(options.seed),
    // A client that drops is out of the round at once (no grace to come back), and is never benched for it.
    '--rejoin-grace-ms', '0', '--max-missed-rounds', '1000',
    ...(mode === 'secagg' ? ['--secure-aggregation'] : []),
  ]);
}

const mean = (xs: number[]) => (xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length);
const sum = (r: Record<string, number>, keep: (event: string) => boolean) => Object.entries(r).reduce((s, [e, b]) => (keep(e) ? s + b : s), 0);

/** One configuration: a fresh coordinator process, N clients, R rounds; everything stopped before it returns. */
export async function runConfiguration(mode: Mode, clients: number, dropoutFraction: number, options: SecAggBenchOptions, workDir: string): Promise<ConfigResult> {
  const started = Date.now();
  const outDir = join(workDir, `${mode}-n${clients}-d${Math.round(dropoutFraction * 100)}`);
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const dropped = dropoutCount(clients, dropoutFraction);
  const coordinator = startCoordinator(outDir, mode, options, clients, dropped);
  const sims: SecAggSimClient[] = [];
  try {
    const readyFile = join(outDir, 'ready.json');
    await waitUntil(() => existsSync(readyFile) || coordinator.child.exitCode !== null, 60_000, 'the coordinator to listen');
    if (!existsSync(readyFile)) throw new Error(`the coordinator did not start:\n${coordinator.output()}`);
    const { url } = JSON.parse(await readFile(readyFile, 'utf8')) as { url: string };
    const allRounds = new Set(Array.from({ length: options.rounds }, (_, i) => i + 1));
    for (let i = 0; i < clients; i++) {
      sims.push(new SecAggSimClient({
        url, clientId: `sim-${String(i).padStart(3, '0')}`, backbone: precomputedBackboneRef(options.dim), labels: LABELS,
        seed: options.seed, ackTimeoutMs: DEADLINE_MS, trainDelayMs: options.trainDelayMs,
        // The last `dropped` clients drop out of every round.
        dropRounds: i >= clients - dropped ? allRounds : new Set(),
      }));
    }
    for (let i = 0; i < sims.length; i += 16) await Promise.all(sims.slice(i, i + 16).map((s) => s.join()));
    const metricsPath = join(outDir, 'metrics.jsonl');
    let recorded = 0;
    await waitUntil(async () => {
      if (coordinator.child.exitCode !== null) return true;
      const rounds = await readRounds(metricsPath);
      const done = rounds.filter((r) => r.status === 'aggregated').length >= options.rounds;
      if (rounds.length > recorded && !done) {
        // The round is over: the clients that dropped out of it come back for the next one.
        recorded = rounds.length;
        await Promise.all(sims.map((s) => s.rejoin()));
      }
      return done || rounds.filter((r) => r.status === 'failed').length >= 3;
    }, DEADLINE_MS, `${options.rounds} rounds aggregated`);
    const rounds = (await readRounds(metricsPath)).filter((r) => r.status === 'aggregated');
    const survivors = sims.slice(0, clients - dropped);
    const perRound: ClientRoundStats[] = survivors.flatMap((s) => [...s.stats.entries()].filter(([r]) => allRounds.has(r)).map(([, st]) => st));
    const samples = Math.max(1, perRound.length);
    const events = new Set(perRound.flatMap((s) => [...Object.keys(s.up), ...Object.keys(s.down)]));
    const bytesByEvent = Object.fromEntries(
      [...events].sort().map((e) => [e, { up: perRound.reduce((a, s) => a + (s.up[e] ?? 0), 0) / samples, down: perRound.reduce((a, s) => a + (s.down[e] ?? 0), 0) / samples }]),
    );
    const protocol = (e: string) => !EVALUATION_EVENTS.has(e);
    const result: ConfigResult = {
      mode, clients, dropoutFraction, dropped, rounds: options.rounds,
      aggregatedRounds: rounds.length,
      acceptedPerRound: rounds.map((r) => r.accepted.length),
      secondsPerRound: mean(rounds.map((r) => r.seconds)),
      coordinatorBytesUpPerRound: mean(rounds.map((r) => r.bytesUp)),
      coordinatorBytesDownPerRound: mean(rounds.map((r) => r.bytesDown)),
      bytesUpPerClient: perRound.reduce((a, s) => a + sum(s.up, protocol), 0) / samples,
      bytesDownPerClient: perRound.reduce((a, s) => a + sum(s.down, protocol), 0) / samples,
      evaluationBytesPerClient: perRound.reduce((a, s) => a + sum(s.up, (e) => !protocol(e)) + sum(s.down, (e) => !protocol(e)), 0) / samples,
      bytesByEvent,
      ...(mode === 'secagg'
        ? { clientCpuMs: { advertise: mean(perRound.map((s) => s.advertiseMs)), shareKeys: mean(perRound.map((s) => s.shareKeysMs)), mask: mean(perRound.map((s) => s.maskMs)), unmask: mean(perRound.map((s) => s.unmaskMs)) } }
        : {}),
      modelFloats: sims[0].modelFloats,
      clientErrors: sims.flatMap((s) => s.errors),
      wallSeconds: 0,
    };
    if (rounds.length < options.rounds) result.clientErrors.push(`coordinator: ${rounds.length}/${options.rounds} rounds aggregated\n${coordinator.output().slice(-2000)}`);
    result.wallSeconds = (Date.now() - started) / 1000;
    return result;
  } finally {
    for (const s of sims) s.close();
    await coordinator.stop('SIGTERM');
  }
}

export async function measureSecAgg(options: SecAggBenchOptions): Promise<SecAggBenchReport> {
  const started = Date.now();
  const workDir = join(options.outDir, 'runs');
  const results: ConfigResult[] = [];
  const progress = new SuiteProgress('secagg', options.clients.length * options.dropouts.length * 2, 'configurations');
  for (const clients of options.clients) {
    for (const dropout of options.dropouts) {
      // Plain and secure side by side, one after the other on the same machine state.
      for (const mode of ['plain', 'secagg'] as const) {
        log.info('configuration started', { mode, clients, dropout });
        progress.begin(`${mode} ${clients} clients, dropout ${dropout}`);
        const result = await runConfiguration(mode, clients, dropout, options, workDir);
        log.info('configuration finished', { mode, clients, dropout, secondsPerRound: result.secondsPerRound, aggregated: result.aggregatedRounds, errors: result.clientErrors.length });
        results.push(result);
        progress.end();
      }
    }
  }
  const modelFloats = results[0]?.modelFloats ?? 0;
  const ok = results.every((r) => r.aggregatedRounds === r.rounds && r.clientErrors.length === 0 && r.acceptedPerRound.every((a) => a === r.clients - r.dropped));
  return { machine: machineInfo(), options, modelFloats, results, ok, seconds: (Date.now() - started) / 1000 };
}

/** `fedtl bench secagg` with its resolved options: the table to stdout, report.json and report.md to --out. */
export async function runSecAggSuite(resolved: ResolvedOptions<typeof SECAGG_OPTIONS>): Promise<number> {
  configureLogging({ level: resolved.values.logLevel, format: resolved.values.logFormat });
  const options = secAggBenchOptionsFrom(resolved.values);
  const report = await measureSecAgg(options);
  await mkdir(options.outDir, { recursive: true });
  await writeFile(join(options.outDir, 'report.json'), JSON.stringify(report, null, 2) + '\n');
  await writeFile(join(options.outDir, 'report.md'), secaggMarkdown(report));
  process.stdout.write(secaggTable(report) + `\nreport.json and report.md in ${options.outDir} (${report.seconds.toFixed(0)} s)\n`);
  return report.ok ? 0 : 1;
}
