// One real federated run: the coordinator and one client per domain, each its own process, talking Socket.IO
// over loopback, so every byte of the federation goes through the protocol. The bench only prepares the
// clients' data files and reads back what the coordinator wrote (metrics.jsonl, checkpoints, audited updates).
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { PrivacyEvent, PrivacySpend } from '@fedtl/privacy';
import type { LoraSpec } from '@fedtl/protocol';
import { createLogger, fedtlProcessArgs } from '@fedtl/util';
import { coordinatorLabelArgs } from '../coordinator-labels';
import { WORKSPACE_ROOT, startApp, type AppProcess } from '../workspace';
import type { ModelOptions, ServerOptimizerOptions, TrainingOptions } from './domains-config';

/** The real client sending −S × its honest delta: a test entry, run from the sources under tsx. */
const SIGN_FLIP_CLIENT_ENTRY = resolve(WORKSPACE_ROOT, 'apps/client/src/testing/sign-flip-main.ts');
const READY_TIMEOUT_MS = 120_000;
const READY_FILE = 'ready.json';
const AUDIT_DIR = 'audit';

export interface FederationClient {
  id: string;
  trainFile: string;
  testFile: string;
  /** Set: this client attacks, sending −signFlipScale × its honest delta every round (it still evaluates honestly). */
  signFlipScale?: number;
}

/** The coordinator's aggregation (its --strategy and that strategy's flags), Per-FedAvg's meta-learning included. */
export type FederationStrategy =
  | { name: 'fedavg' }
  | { name: 'per-fedavg'; metaInnerLearningRate: number }
  | ({ name: 'fedavgm' } & ServerOptimizerOptions['fedavgm'])
  | ({ name: 'fedadam' | 'fedyogi' } & ServerOptimizerOptions['fedadam'])
  | ({ name: 'fedadagrad' } & Omit<ServerOptimizerOptions['fedadam'], 'beta2'>)
  | { name: 'fedprox'; proximalMu: number }
  | { name: 'median' }
  | { name: 'trimmed-mean'; trimFraction: number }
  | { name: 'krum'; byzantineClients: number }
  | { name: 'multikrum'; byzantineClients: number; selected: number };

export interface FederationOptions {
  /** Emptied first; gets metrics.jsonl, checkpoints/, audit/ and logs/. */
  runDir: string;
  clients: FederationClient[];
  labels: string[];
  rounds: number;
  seed: number;
  backbone: string;
  backend: string;
  cacheDir: string;
  model: ModelOptions;
  training: TrainingOptions;
  strategy: FederationStrategy;
  /** > 0: clients also report a head fine-tuned privately for this many epochs (personalizedAccuracy). */
  personalizeEpochs: number;
  /** Keep every accepted update (to rebuild per-round weights). Not with secureAggregation. */
  audit: boolean;
  /**
   * Secure aggregation: the coordinator runs with --secure-aggregation (it unmasks only each round's sum) and
   * every client with --require-secure-aggregation (it sends no update in the clear).
   */
  secureAggregation: boolean;
  /** Start from another run's global weights (the coordinator's --init-from: a checkpoint file or run dir). */
  initFrom?: string;
  /** Differential privacy of the run (the coordinator's --dp-* flags, PROTOCOL §7.1); absent: none. */
  dp?: FederationDp;
  /** The coordinator's --compression (float32, float16, int8, topk:F); absent: float32. */
  compression?: string;
}

/** The coordinator's DP settings: at most one unit of privacy, and the budget the run may not exceed. */
export interface FederationDp {
  /** Record-level DP-SGD on every client: clipping bound C and noise multiplier σ. */
  record?: { clipNorm: number; noiseMultiplier: number };
  /** Client-level DP-FedAvg: update clipping bound S, noise multiplier z, Poisson client-sampling rate q. */
  client?: { clipNorm: number; noiseMultiplier: number; samplingRate: number };
  /** The coordinator refuses a round that would take the run over it. */
  budget?: { epsilon: number; delta: number };
}

/** What the coordinator's summary.json says of the run's privacy (present when the run used DP). */
export interface RunPrivacy {
  budget?: { epsilon: number; delta: number };
  spent: PrivacySpend[];
  events: number;
}

/** The part of the coordinator's per-round record (apps/coordinator/src/metrics-log.ts) the bench reads. */
export interface RoundRecord {
  round: number;
  status: 'aggregated' | 'failed';
  clients: Record<string, Record<string, number>>;
  bytesUp: number;
  bytesDown: number;
  /** Of bytesUp: the `update` events' payloads. */
  updateBytesUp?: number;
  seconds: number;
  /** Under DP: this round's events and the cumulative spend at the run's δ. */
  privacy?: { events: PrivacyEvent[]; spent: PrivacySpend[] };
}

export interface FederationResult {
  records: RoundRecord[];
  seconds: number;
  auditDir: string;
  /** summary.json's privacy section, when it has one. */
  privacy?: RunPrivacy;
}

const log = createLogger('bench-federation');

/**
 * The coordinator's options for one federation (after `fedtl coordinator`), into `runDir`, which must exist: its
 * labels go in a config file there.
 */
export async function federationCoordinatorArgs(options: FederationOptions): Promise<string[]> {
  const { runDir, model, training } = options;
  return [
    '--port', '0', '--fresh', '--out-dir', runDir, '--ready-file', join(runDir, READY_FILE),
    '--rounds', String(options.rounds), '--min-clients', String(options.clients.length),
    '--backbone', options.backbone, ...(await coordinatorLabelArgs(runDir, options.labels)),
    '--adapter-width', String(model.adapterWidth), '--head', model.head, '--head-hidden', String(model.headHidden),
    ...(model.lora ? loraFlags(model.lora) : []),
    '--local-epochs', String(training.localEpochs), '--batch-size', String(training.batchSize),
    '--learning-rate', String(training.learningRate), '--optimizer', training.optimizer,
    '--seed', String(options.seed), '--log-level', 'warn',
    ...strategyFlags(options.strategy),
    ...(options.audit ? ['--audit-dir', join(runDir, AUDIT_DIR)] : []),
    ...(options.secureAggregation ? ['--secure-aggregation'] : []),
    ...(options.initFrom !== undefined ? ['--init-from', options.initFrom] : []),
    ...(options.dp ? dpFlags(options.dp) : []),
    ...(options.compression !== undefined ? ['--compression', options.compression] : []),
  ];
}

/** The coordinator's --lora-* flags for `lora`. */
function loraFlags(lora: LoraSpec): string[] {
  return ['--lora-rank', String(lora.rank), '--lora-alpha', String(lora.alpha), '--lora-layers', lora.layers.join(','), '--lora-targets', lora.targets.join(',')];
}

export async function runFederation(options: FederationOptions): Promise<FederationResult> {
  const { runDir } = options;
  // The coordinator would refuse it too, but only after the bench had emptied runDir.
  if (options.audit && options.secureAggregation) throw new Error(`${runDir}: a federation under secure aggregation has no individual updates to audit`);
  const started = performance.now();
  await rm(runDir, { recursive: true, force: true });
  const logsDir = join(runDir, 'logs');
  await mkdir(logsDir, { recursive: true });
  const readyFile = join(runDir, READY_FILE);
  const auditDir = join(runDir, AUDIT_DIR);
  const coordinator = startApp(
    fedtlProcessArgs(['coordinator', ...(await federationCoordinatorArgs(options))]),
    join(logsDir, 'coordinator.log'),
  );
  const clients: AppProcess[] = [];
  try {
    const url = await waitForUrl(readyFile, coordinator, join(logsDir, 'coordinator.log'));
    log.info('federation started', { runDir, url, clients: options.clients.map((c) => c.id), rounds: options.rounds, secureAggregation: options.secureAggregation });
    for (const client of options.clients) {
      clients.push(
        startApp(
          [
            ...(client.signFlipScale === undefined ? fedtlProcessArgs(['client']) : ['--import', 'tsx', SIGN_FLIP_CLIENT_ENTRY, '--sign-flip-scale', String(client.signFlipScale)]),
            '--coordinator', url, '--client-id', client.id, '--data', client.trainFile, '--test-data', client.testFile,
            '--backbone', options.backbone, '--backend', options.backend, '--cache-dir', options.cacheDir,
            '--embed-threads', '1', '--seed', String(options.seed), '--log-level', 'warn',
            ...(options.personalizeEpochs > 0 ? ['--personalize-epochs', String(options.personalizeEpochs)] : []),
            ...(options.secureAggregation ? ['--require-secure-aggregation'] : []),
            // The client's own DP-SGD ledger would default to the shared feature cache, where every run (and every
            // bench sharing the cache) would add to one file per client id: each run keeps its own.
            ...(options.dp ? ['--dp-ledger', join(runDir, 'ledgers', `${client.id}.json`)] : []),
          ],
          join(logsDir, `${client.id}.log`),
        ),
      );
    }
    // A client that fails (refused at Join, a crash) would leave the coordinator waiting for its quorum for ever:
    // the first failing client stops the federation.
    const everyone = Promise.all([coordinator.exited, ...clients.map((c) => c.exited)]);
    const aClientFailed = new Promise<void>((failed) => clients.forEach((c) => void c.exited.then((code) => code !== 0 && failed())));
    await Promise.race([everyone, aClientFailed]);
    for (const app of [coordinator, ...clients]) app.stop();
    const codes = await everyone;
    const failed = codes.map((code, i) => ({ code, name: i === 0 ? 'coordinator' : options.clients[i - 1].id })).filter((p) => p.code !== 0);
    if (failed.length > 0) {
      throw new Error(`federated run in ${runDir} failed: ${failed.map((p) => `${p.name} exited ${p.code}`).join(', ')} (logs in ${logsDir})`);
    }
  } finally {
    coordinator.stop();
    for (const client of clients) client.stop();
  }
  const records = (await readFile(join(runDir, 'metrics.jsonl'), 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as RoundRecord)
    .filter((record) => record.status === 'aggregated');
  // A coordinator that exits 0 aggregated every round; anything else would make "the last round" an earlier one.
  if (records.length !== options.rounds) throw new Error(`federated run in ${runDir}: expected ${options.rounds} aggregated rounds in metrics.jsonl, got ${records.length}`);
  const privacy = await runPrivacyOf(runDir);
  return { records, seconds: (performance.now() - started) / 1000, auditDir, ...(privacy ? { privacy } : {}) };
}

/** The coordinator flags of `dp`. */
export function dpFlags(dp: FederationDp): string[] {
  return [
    ...(dp.record ? ['--dp-record-clip-norm', String(dp.record.clipNorm), '--dp-record-noise-multiplier', String(dp.record.noiseMultiplier)] : []),
    ...(dp.client
      ? [
          '--dp-update-clip-norm', String(dp.client.clipNorm), '--dp-update-noise-multiplier', String(dp.client.noiseMultiplier),
          '--dp-client-sampling-rate', String(dp.client.samplingRate),
        ]
      : []),
    ...(dp.budget ? ['--dp-epsilon', String(dp.budget.epsilon), '--dp-delta', String(dp.budget.delta)] : []),
  ];
}

async function runPrivacyOf(runDir: string): Promise<RunPrivacy | undefined> {
  const file = join(runDir, 'summary.json');
  if (!existsSync(file)) return undefined;
  return (JSON.parse(await readFile(file, 'utf8')) as { privacy?: RunPrivacy }).privacy;
}

/** The coordinator flags that select `strategy` with its settings. */
export function strategyFlags(strategy: FederationStrategy): string[] {
  switch (strategy.name) {
    case 'fedavg':
      return ['--strategy', 'fedavg'];
    case 'per-fedavg':
      return ['--strategy', 'per-fedavg', '--meta-inner-learning-rate', String(strategy.metaInnerLearningRate)];
    case 'fedavgm':
      return ['--strategy', 'fedavgm', '--server-learning-rate', String(strategy.serverLearningRate), '--server-momentum', String(strategy.serverMomentum)];
    case 'fedadam':
    case 'fedyogi':
      return [
        '--strategy', strategy.name, '--server-learning-rate', String(strategy.serverLearningRate),
        '--server-beta1', String(strategy.beta1), '--server-beta2', String(strategy.beta2), '--server-tau', String(strategy.tau),
      ];
    case 'fedadagrad':
      return ['--strategy', 'fedadagrad', '--server-learning-rate', String(strategy.serverLearningRate), '--server-beta1', String(strategy.beta1), '--server-tau', String(strategy.tau)];
    case 'fedprox':
      return ['--strategy', 'fedprox', '--proximal-mu', String(strategy.proximalMu)];
    case 'median':
      return ['--strategy', 'median'];
    case 'trimmed-mean':
      return ['--strategy', 'trimmed-mean', '--trim-fraction', String(strategy.trimFraction)];
    case 'krum':
      return ['--strategy', 'krum', '--byzantine-clients', String(strategy.byzantineClients)];
    case 'multikrum':
      return ['--strategy', 'multikrum', '--byzantine-clients', String(strategy.byzantineClients), '--multikrum-selected', String(strategy.selected)];
  }
}

async function waitForUrl(readyFile: string, coordinator: AppProcess, logFile: string): Promise<string> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    // The file may be caught half-written: only a complete JSON object with a url counts.
    const url = existsSync(readyFile) ? urlIn(await readFile(readyFile, 'utf8')) : undefined;
    if (url) return url;
    if (!coordinator.isRunning()) {
      // Its last line says why (a refused option, a locked out-dir…): shown here, not only in the log file.
      const lastLine = (await readFile(logFile, 'utf8').catch(() => '')).trim().split('\n').pop() ?? '';
      throw new Error(`the coordinator exited before it listened: ${lastLine || '(no output)'} (see ${logFile})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the coordinator did not listen within ${READY_TIMEOUT_MS / 1000} s (see ${logFile})`);
}

function urlIn(text: string): string | undefined {
  try {
    return (JSON.parse(text) as { url?: string }).url;
  } catch {
    return undefined;
  }
}
