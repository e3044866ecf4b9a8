// Wires a configured coordinator together: backbone pin, model, strategy, checkpoints, server. Used by the
// CLI (main.ts), the demo and the tests, so all of them run exactly the same code.
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { backboneRefFor, initialWeights } from '@fedtl/model';
import { encodeUpdate, type BackboneRef, type ModelSpec } from '@fedtl/protocol';
import { FedtlError, createLogger, errorMessage, toFedtlError, withLogFields } from '@fedtl/util';
import { CheckpointStore, type Checkpoint } from './checkpoint-store';
import { PrivacyLedger, type PrivacyEvent } from '@fedtl/privacy';
import { dpUnitOf, type CoordinatorConfig } from './config';
import { initFrom, type InitFromResult } from './init-from';
import { Coordinator, type PrivacyStatus, type RunSummary } from './coordinator';
import { MetricsLog } from './metrics-log';
import { lockOutDir, type OutDirLock } from './out-dir-lock';
import { roundEvents, type DifferentialPrivacyOptions } from './privacy/differential-privacy';
import { readRunLedger, runLedgerPath, writeRunLedger, type RunLedger } from './privacy/run-ledger-file';
import { RunStatus } from './dashboard/run-status';
import { ClientCredentials } from './credentials/client-credentials';
import { CoordinatorServer } from './server';
import { createStrategy, serverOptimizerOf } from './strategy-factory';
import { TrafficCounter } from './traffic-counter';
import { ensureWritableDir } from './writable-dir';

export interface StartedCoordinator {
  url: string;
  /** The run's id: new, or the resumed run's (from its checkpoints or privacy ledger). */
  runId: string;
  coordinator: Coordinator;
  /** The Socket.IO endpoint (its handshake admission, for tests and operators' introspection). */
  server: CoordinatorServer;
  /** The per-client token store in force, watched while the coordinator runs; absent without one. */
  credentials?: ClientCredentials;
  /**
   * Resolves when the configured rounds are done and every client was sent the FINISHED verdict (a RunEnd) and
   * disconnected, or when `stop()` ended the run early (no verdict: the clients keep reconnecting, so a restart
   * resumes); the dashboard keeps serving until `stop()`. Rejects when the run fails (quorum not met, training
   * diverged, an internal error), after the failure was logged, every client was sent the FAILED verdict with
   * that cause, and the server closed (at most the ack timeout plus CLOSE_GRACE_MS).
   */
  finished: Promise<RunSummary>;
  /** Stops: abandons a round in flight (it is re-run after a restart), closes the server and frees the out-dir. */
  stop(): Promise<void>;
}

const log = createLogger('coordinator-main');

/**
 * The hash of everything that changes the run's arithmetic; a checkpoint only resumes a run with the same. The
 * --init-from source counts as its absolute path (only when set, so other runs keep their hashes): a restart that
 * names another source, or none, is refused rather than silently continuing weights that came from elsewhere.
 */
export function configHashOf(config: CoordinatorConfig, model: ModelSpec, backboneHash: string): string {
  const relevant = {
    backboneHash, model, training: config.training, seed: config.seed, strategy: serverOptimizerOf(config), fractionFit: config.fractionFit,
    ...(config.initFrom !== undefined ? { initFrom: resolve(config.initFrom) } : {}),
    // The mechanism changes the arithmetic (only when set, so other runs keep their hashes); the budget does not.
    ...(dpUnitOf(config) ? { privacy: privacyOf(config)?.mechanism } : {}),
  };
  return createHash('sha256').update(JSON.stringify(relevant)).digest('hex').slice(0, 16);
}

export async function startCoordinator(config: CoordinatorConfig): Promise<StartedCoordinator> {
  for (const warning of config.warnings) log.warn(warning);
  const backbone = await backboneRefFor(config.backbone);
  const model: ModelSpec = {
    inputDim: backbone.dim,
    adapterWidth: config.adapterWidth,
    head: config.head,
    headHidden: config.headHidden,
    labels: config.labels,
    ...(config.lora ? { lora: config.lora } : {}),
  };
  const configHash = configHashOf(config, model, backbone.contentHash);
  const checkpointsDir = join(config.outDir, 'checkpoints');
  const metricsPath = join(config.outDir, 'metrics.jsonl');
  await ensureWritableDir(config.outDir, '--out-dir');
  // Taken before --fresh deletes anything: the files may belong to a coordinator that is running.
  const lock = await lockOutDir(config.outDir);
  let credentials: ClientCredentials | undefined;
  try {
    credentials = config.tokenStore ? await ClientCredentials.open(config.tokenStore) : undefined;
    return await startLocked(config, { backbone, model, configHash, checkpointsDir, metricsPath, lock, credentials });
  } catch (err) {
    credentials?.close();
    await lock.release();
    throw err;
  }
}

interface Prepared {
  backbone: BackboneRef;
  model: ModelSpec;
  configHash: string;
  checkpointsDir: string;
  metricsPath: string;
  lock: OutDirLock;
  credentials?: ClientCredentials;
}

async function startLocked(config: CoordinatorConfig, prepared: Prepared): Promise<StartedCoordinator> {
  const { checkpointsDir, metricsPath } = prepared;
  if (config.fresh) {
    await rm(checkpointsDir, { recursive: true, force: true });
    await rm(metricsPath, { force: true });
    await rm(runLedgerPath(config.outDir), { force: true });
  }
  await ensureWritableDir(checkpointsDir, '--out-dir (its checkpoints directory)');
  if (config.auditDir) await ensureWritableDir(config.auditDir, '--audit-dir');
  const store = new CheckpointStore(checkpointsDir);
  await store.removeStaleTempFiles();
  const previous = await store.loadLatest();
  const metricsLog = new MetricsLog(metricsPath);
  await metricsLog.repairTornTail();
  const dp = privacyOf(config);
  const ledgerFile = dp ? await readRunLedger(runLedgerPath(config.outDir)) : null;
  if (previous && ledgerFile && ledgerFile.runId !== previous.runId) {
    throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `${runLedgerPath(config.outDir)} is the privacy ledger of run ${ledgerFile.runId}, the checkpoints are run ${previous.runId}'s: expected one run in --out-dir; use --fresh or another --out-dir`);
  }
  // A run that charged its ledger before any checkpoint keeps its id: its charges stay its own.
  const runId = previous?.runId ?? ledgerFile?.runId ?? randomUUID();
  // From here on every line, whichever module logs it, names the run (the id survives a resume: it is in the
  // checkpoints and the ledger). Lines before this point (start-up warnings, the out-dir lock) cannot.
  return withLogFields({ runId }, () => startRun(config, { ...prepared, store, previous, metricsLog, dp, ledgerFile, runId }));
}

interface Identified extends Prepared {
  store: CheckpointStore;
  previous: Checkpoint | null;
  metricsLog: MetricsLog;
  dp: DifferentialPrivacyOptions | undefined;
  ledgerFile: RunLedger | null;
  runId: string;
}

/** startLocked once the run's id is known: the coordinator, its server, and what happens when the run ends. */
async function startRun(config: CoordinatorConfig, { backbone, model, configHash, checkpointsDir, lock, credentials, store, previous, metricsLog, dp, ledgerFile, runId }: Identified): Promise<StartedCoordinator> {
  const traffic = new TrafficCounter();
  // --init-from only seeds a new run: a restart continues from its own checkpoints and never reads the source.
  const seeded = config.initFrom !== undefined && !previous ? await initFrom(config.initFrom, model, backbone, config.seed) : undefined;
  const initial = seeded ? seeded.weights : initialWeights(model, config.seed);
  const privacy = dp ? await runPrivacy(config, dp, runId, previous, ledgerFile, seeded) : undefined;
  const coordinator = new Coordinator({
    runId,
    configHash,
    rounds: config.rounds,
    minClients: config.minClients,
    minAvailable: config.minAvailable,
    roundTimeoutMs: config.roundTimeoutMs,
    evalTimeoutMs: config.evalTimeoutMs,
    maxRoundAttempts: config.maxRoundAttempts,
    roundRetryDelayMs: config.roundRetryDelayMs,
    rejoinGraceMs: config.rejoinGraceMs,
    maxClients: config.maxClients,
    maxMissedRounds: config.maxMissedRounds,
    maxPlanResends: config.maxPlanResends,
    token: config.token,
    ...(credentials ? { clientTokens: credentials } : {}),
    seed: config.seed,
    backbone,
    model,
    training: config.training,
    initialWeights: initial,
    strategy: createStrategy(config),
    store,
    metricsLog,
    traffic,
    limits: {
      updateNorm: { maxNorm: config.maxUpdateNorm, action: config.updateNormAction },
      maxClientShare: config.maxClientShare,
      maxDeclaredExamples: config.maxDeclaredExamples,
    },
    onAcceptedUpdate: config.auditDir ? auditWriter(config.auditDir) : undefined,
    ...(config.secureAggregation ? { secureAggregation: { threshold: config.secaggThreshold, phaseTimeoutMs: config.secaggPhaseTimeoutMs } } : {}),
    ...(privacy ? { privacy } : {}),
  });
  coordinator.resume(previous);
  // A token that stops being valid ends its client's session at once, with the reason.
  credentials?.on('revoked', ({ tokenId, clientId, reason }) => {
    coordinator.disconnectToken(tokenId, `token ${tokenId} for client ${clientId} was ${reason === 'revoked' ? 'revoked' : 'removed from the token store'}`);
  });
  const modelBytes = initial.reduce((sum, t) => sum + t.data.byteLength, 0);
  warnIfBudgetCutsTheRun(config, coordinator.roundsCompleted, privacy?.initialEvents ?? []);
  const status = new RunStatus(coordinator, { runId, backbone, model, roundsPlanned: config.rounds, secureAggregation: config.secureAggregation });
  const server = new CoordinatorServer(coordinator, traffic, {
    host: config.host,
    port: config.port,
    token: config.token,
    clientCredentials: credentials,
    operatorToken: config.operatorToken,
    modelBytes,
    ackTimeoutMs: config.ackTimeoutMs,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    heartbeatTimeoutMs: config.heartbeatTimeoutMs,
    checkpointsDir,
    limits: {
      maxConnections: config.maxConnections,
      maxConnectionsPerAddress: config.maxConnectionsPerAddress,
      maxAuthFailures: config.maxAuthFailures,
      authFailureWindowMs: config.authFailureWindowMs,
    },
    tls: config.tlsCert && config.tlsKey
      ? {
          cert: await readFile(config.tlsCert, 'utf8'),
          key: await readFile(config.tlsKey, 'utf8'),
          clientCa: config.tlsClientCa ? await readFile(config.tlsClientCa, 'utf8') : undefined,
        }
      : undefined,
  }, status);
  const url = await server.listen();
  log.info('listening', { url, runId, backbone: backbone.id, rounds: config.rounds, resumedAt: coordinator.roundsCompleted, minClients: config.minClients });
  if (config.readyFile) {
    // Written whole or not at all (temp file + rename): scripts polling for it never read half of it.
    await writeFile(`${config.readyFile}.tmp`, JSON.stringify({ url, pid: process.pid, runId }));
    await rename(`${config.readyFile}.tmp`, config.readyFile);
  }

  /** summary.json: how the run ended, where its last checkpoint is, the model, and its privacy ledger's totals. */
  const writeSummary = (fields: Record<string, unknown>) =>
    writeFile(join(config.outDir, 'summary.json'), JSON.stringify({ ...fields, backbone, model, ...privacySummary(coordinator) }, null, 2));
  const finished = coordinator.run().then(
    async (summary) => {
      // Stopped by the operator: the run is not over, so no verdict; a restarted coordinator resumes it.
      if (coordinator.phase === 'stopped') return summary;
      if (summary.roundsCompleted > summary.resumedFrom) {
        await writeSummary({ runId, status: 'finished', roundsCompleted: summary.roundsCompleted, resumedFrom: summary.resumedFrom, lastEvaluation: summary.lastEvaluation, checkpoint: store.pathFor(summary.roundsCompleted) });
      } else {
        // A restart of a run that was already complete: its summary stays as the run wrote it.
        log.info('nothing to do: the run already completed its rounds', { rounds: summary.roundsCompleted });
      }
      await server.endRun({ runId, status: 'finished', roundsCompleted: summary.roundsCompleted });
      return summary;
    },
    async (err) => {
      // Said first: telling the clients and closing take a while, and must not hide why the run ended.
      const error = toFedtlError(err);
      log.error('the run failed', { code: error.code, error: error.message, roundsCompleted: coordinator.roundsCompleted });
      // A run that got somewhere (e.g. stopped by its privacy budget) is summarised with why it ended; one that
      // completed nothing in this process leaves an earlier summary as it was.
      // A budget that stopped the run is summarised even before any round: summary.json says why it ended.
      if (coordinator.roundsCompleted > coordinator.resumedFromRound || error.code === 'FEDTL_ERR_PRIVACY_BUDGET') {
        await writeSummary({
          runId, status: 'failed', error: { code: error.code, message: error.message }, roundsCompleted: coordinator.roundsCompleted,
          resumedFrom: coordinator.resumedFromRound, checkpoint: coordinator.roundsCompleted > 0 ? store.pathFor(coordinator.roundsCompleted) : null,
        }).catch((writeError) => log.error('could not write summary.json', { error: errorMessage(writeError) }));
      }
      await server.endRun({ runId, status: 'failed', error: { code: error.code, message: error.message }, roundsCompleted: coordinator.roundsCompleted });
      await server.close();
      credentials?.close();
      // Nothing will write to the out-dir any more: free it (and its holder file) for the next coordinator.
      await lock.release();
      throw err;
    },
  );
  return {
    url,
    runId,
    coordinator,
    server,
    ...(credentials ? { credentials } : {}),
    finished,
    stop: async () => {
      coordinator.stop();
      credentials?.close();
      try {
        await server.close();
      } finally {
        await lock.release();
      }
    },
  };
}

/** The DP options as the coordinator takes them; undefined when the run uses none. */
export function privacyOf(config: CoordinatorConfig): DifferentialPrivacyOptions | undefined {
  const unit = dpUnitOf(config);
  if (!unit) return undefined;
  const mechanism: DifferentialPrivacyOptions['mechanism'] = unit === 'record'
    ? { unit, clipNorm: config.dpRecordClipNorm as number, noiseMultiplier: config.dpRecordNoiseMultiplier as number }
    : { unit, clipNorm: config.dpUpdateClipNorm as number, noiseMultiplier: config.dpUpdateNoiseMultiplier as number, samplingRate: config.dpClientSamplingRate ?? 1 };
  return { mechanism, delta: config.dpDelta, ...(config.dpEpsilon !== undefined ? { budget: { epsilon: config.dpEpsilon, delta: config.dpDelta } } : {}) };
}

/**
 * The run's DP options with the ledger it starts from, and where every charge is stored. A resumed run takes the
 * longer of its ledger file and its checkpoint's copy (the file has the charges of failed and abandoned attempts
 * and of rounds after a checkpoint that resume fell back from). A new run seeded by --init-from starts with the
 * source's ledger: its weights already spent that privacy.
 */
async function runPrivacy(
  config: CoordinatorConfig,
  dp: DifferentialPrivacyOptions,
  runId: string,
  previous: Checkpoint | null,
  ledgerFile: RunLedger | null,
  seeded: InitFromResult | undefined,
): Promise<DifferentialPrivacyOptions> {
  let events = ledgerFile?.events ?? [];
  if ((previous?.privacy?.length ?? 0) > events.length) {
    if (ledgerFile) log.warn('the newest checkpoint holds a longer privacy ledger than privacy-ledger.json: resuming with the checkpoint\'s', { file: ledgerFile.events.length, checkpoint: previous?.privacy?.length });
    else log.warn('privacy-ledger.json is missing: the ledger resumes from the checkpoint\'s copy, without charges made after it', { events: previous?.privacy?.length });
    events = previous?.privacy ?? [];
  }
  // The source's ledger enters once, when the run starts; a restart before the first checkpoint has it in the file.
  if (seeded && !ledgerFile) events = await sourceLedger(seeded);
  const path = runLedgerPath(config.outDir);
  const persist = (all: PrivacyEvent[]) => writeRunLedger(path, { runId, events: all });
  await persist(events);
  return { ...dp, initialEvents: events, persist };
}

/** The privacy ledger of an --init-from source: its run dir's ledger file, else its checkpoint's copy. */
async function sourceLedger(seeded: InitFromResult): Promise<PrivacyEvent[]> {
  const sourceRunDir = dirname(dirname(seeded.source.path));
  // A damaged source ledger stops the run (FEDTL_ERR_CHECKPOINT_CORRUPT): falling back would lose its later charges.
  const file = seeded.source.path.endsWith('.ckpt') && basename(dirname(seeded.source.path)) === 'checkpoints' ? await readRunLedger(runLedgerPath(sourceRunDir)) : null;
  const events = file && file.runId === seeded.source.checkpoint.runId && file.events.length >= (seeded.source.checkpoint.privacy?.length ?? 0) ? file.events : (seeded.source.checkpoint.privacy ?? []);
  if (events.length > 0) {
    log.info('--init-from: the source run\'s privacy ledger carries over (its weights already spent it)', { source: seeded.source.path, events: events.length });
  } else {
    log.warn('--init-from: the source run kept no privacy ledger: its weights were trained without differential privacy, and this run\'s epsilon does not cover what they carry', { source: seeded.source.path });
  }
  return events;
}

/** summary.json's `privacy`: the mechanism, the budget and what the run spent (absent without DP). */
function privacySummary(coordinator: Coordinator): { privacy?: PrivacyStatus } {
  const privacy = coordinator.privacy;
  return privacy ? { privacy } : {};
}

/**
 * Client-level DP spends the same every round, so whether the budget covers --rounds is known at start: said
 * once, so the operator is not surprised when the run stops early. (Record-level cost depends on each client's n.)
 */
function warnIfBudgetCutsTheRun(config: CoordinatorConfig, completed: number, spentAlready: PrivacyEvent[]): void {
  const dp = privacyOf(config);
  if (!dp?.budget || dp.mechanism.unit !== 'client') return;
  const ledger = new PrivacyLedger(spentAlready);
  let lastAffordable = completed;
  for (let round = completed + 1; round <= config.rounds; round++) {
    const events = roundEvents(round, dp.mechanism, config.training, new Map());
    if (ledger.overBudget(dp.budget, events)) break;
    ledger.record(...events);
    lastAffordable = round;
  }
  if (lastAffordable < config.rounds) {
    log.warn('the privacy budget covers fewer rounds than --rounds: the run will stop when it is spent', {
      rounds: config.rounds, completed, lastRoundWithinBudget: lastAffordable, eventsAlready: spentAlready.length, epsilon: dp.budget.epsilon, delta: dp.budget.delta,
    });
  }
}

function auditWriter(dir: string) {
  return async (update: Parameters<typeof encodeUpdate>[0]) => {
    const roundDir = join(dir, `round-${String(update.round).padStart(6, '0')}`);
    await mkdir(roundDir, { recursive: true });
    await writeFile(join(roundDir, `${update.clientId}.update.pb`), encodeUpdate(update));
  };
}
