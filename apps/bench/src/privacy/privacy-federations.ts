// The suite's real federations (the coordinator and one client process per domain, over Socket.IO): a record-level
// row's run at one seed, and the overhead comparison, four federations run one after another with the same data and
// settings: plain FedAvg, record-level DP-SGD, client-level DP-FedAvg, and client-level DP-FedAvg under secure
// aggregation. Every DP run is given its target as the coordinator's budget, so the coordinator's own ledger checks
// the calibration (it refuses a round that would exceed it) and its summary.json reports what was spent.
import { join } from 'node:path';
import type { DomainBudget } from '../domains/domain-data';
import type { ModelOptions, ServerOptimizerOptions, TrainingOptions } from '../domains/domains-config';
import { meanOf } from '../domains/report';
import { runFederation, type FederationClient, type FederationDp, type FederationResult, type FederationStrategy } from '../domains/federation-run';
import { clientLevelNoise, recordLevelNoise, type NoisePlan } from './dp-calibration';
import type { PrivacyStrategyName } from './privacy-config';
import { privacySeedRun, type OverheadRow, type OverheadSection, type PrivacySeedRun } from './privacy-report';

/** What every federation of the suite shares. */
export interface FederationSettings {
  labels: string[];
  rounds: number;
  backbone: string;
  backend: string;
  cacheDir: string;
  model: ModelOptions;
  training: TrainingOptions;
  fedadam: ServerOptimizerOptions['fedadam'];
  delta: number;
  recordClipNorm: number;
}

export function federationStrategy(name: PrivacyStrategyName, fedadam: ServerOptimizerOptions['fedadam']): FederationStrategy {
  return name === 'fedavg' ? { name } : { name, ...fedadam };
}

/** σ for a record-level row at target ε (null: no DP) for these clients' data. */
export function recordNoiseFor(settings: FederationSettings, epsilon: number | null, draw: readonly DomainBudget[]): NoisePlan | null {
  if (epsilon === null) return null;
  const { batchSize, localEpochs } = settings.training;
  return recordLevelNoise({ epsilon, delta: settings.delta, clientExamples: draw.map((d) => d.train.length), batchSize, localEpochs, rounds: settings.rounds });
}

/** The ε of `unit` in summary.json; null without DP. @throws Error when a DP run's summary has no such figure. */
export function spentEpsilonOf(federation: FederationResult, unit: 'record' | 'client', dp: boolean): number | null {
  if (!dp) return null;
  const spend = federation.privacy?.spent.find((s) => s.unit === unit);
  if (!spend) throw new Error(`a run with ${unit}-level DP: expected summary.json to report the ${unit}-level ε spent, got ${JSON.stringify(federation.privacy ?? null)}`);
  return spend.epsilon;
}

/** Per-domain test accuracy after the last round. */
function finalAccuracies(federation: FederationResult, domains: readonly string[]): Record<string, number> {
  const last = federation.records[federation.records.length - 1];
  return Object.fromEntries(domains.map((d) => [d, last?.clients[d]?.accuracy ?? NaN]));
}

export interface RecordRunRequest {
  runDir: string;
  clients: FederationClient[];
  domains: string[];
  strategy: PrivacyStrategyName;
  epsilon: number | null;
  noise: NoisePlan | null;
  seed: number;
}

/** One record-level row at one seed, as a real federation. */
export async function runRecordLevel(settings: FederationSettings, request: RecordRunRequest): Promise<PrivacySeedRun> {
  const dp: FederationDp | undefined =
    request.noise && request.epsilon !== null
      ? { record: { clipNorm: settings.recordClipNorm, noiseMultiplier: request.noise.noiseMultiplier }, budget: { epsilon: request.epsilon, delta: settings.delta } }
      : undefined;
  const federation = await runFederation({
    ...baseOptions(settings),
    runDir: request.runDir,
    clients: request.clients,
    seed: request.seed,
    strategy: federationStrategy(request.strategy, settings.fedadam),
    secureAggregation: false,
    ...(dp ? { dp } : {}),
  });
  return privacySeedRun(request.seed, finalAccuracies(federation, request.domains), spentEpsilonOf(federation, 'record', dp !== undefined), federation.seconds);
}

export interface OverheadRequest {
  outDir: string;
  clients: FederationClient[];
  draw: readonly DomainBudget[];
  labelsPerClient: number;
  seed: number;
  epsilon: number;
  /** S of the client-level runs. */
  updateClipNorm: number;
}

/** Client-level runs of the comparison sample every client every round: four clients are too few to sample. */
const OVERHEAD_CLIENT_SAMPLING_RATE = 1;

/** The four FedAvg federations of the overhead table, one after another. */
export async function runOverhead(settings: FederationSettings, request: OverheadRequest): Promise<OverheadSection> {
  const domains = request.draw.map((d) => d.name);
  const record = recordNoiseFor(settings, request.epsilon, request.draw);
  const client = clientLevelNoise({ epsilon: request.epsilon, delta: settings.delta, samplingRate: OVERHEAD_CLIENT_SAMPLING_RATE, rounds: settings.rounds });
  const budget = { epsilon: request.epsilon, delta: settings.delta };
  const clientDp: FederationDp = { client: { clipNorm: request.updateClipNorm, noiseMultiplier: client.noiseMultiplier, samplingRate: OVERHEAD_CLIENT_SAMPLING_RATE }, budget };
  const plan: Array<{ name: OverheadRow['name']; dp?: FederationDp; secureAggregation: boolean; unit?: 'record' | 'client'; noise: number | null }> = [
    { name: 'fedavg', secureAggregation: false, noise: null },
    { name: 'record-dp', dp: { record: { clipNorm: settings.recordClipNorm, noiseMultiplier: record?.noiseMultiplier ?? NaN }, budget }, secureAggregation: false, unit: 'record', noise: record?.noiseMultiplier ?? null },
    { name: 'client-dp', dp: clientDp, secureAggregation: false, unit: 'client', noise: client.noiseMultiplier },
    { name: 'client-dp-secagg', dp: clientDp, secureAggregation: true, unit: 'client', noise: client.noiseMultiplier },
  ];
  const rows: OverheadRow[] = [];
  for (const row of plan) {
    const federation = await runFederation({
      ...baseOptions(settings),
      runDir: join(request.outDir, row.name),
      clients: request.clients,
      seed: request.seed,
      strategy: { name: 'fedavg' },
      secureAggregation: row.secureAggregation,
      ...(row.dp ? { dp: row.dp } : {}),
    });
    const accuracies = finalAccuracies(federation, domains);
    rows.push({
      name: row.name,
      secondsPerRound: meanOf(federation.records.map((r) => r.seconds)),
      bytesUpPerRound: meanOf(federation.records.map((r) => r.bytesUp)),
      bytesDownPerRound: meanOf(federation.records.map((r) => r.bytesDown)),
      mean: meanOf(Object.values(accuracies)),
      noiseMultiplier: row.noise,
      spentEpsilon: row.unit ? spentEpsilonOf(federation, row.unit, true) : null,
      seconds: federation.seconds,
    });
  }
  return { labelsPerClient: request.labelsPerClient, seed: request.seed, epsilon: request.epsilon, clientSamplingRate: OVERHEAD_CLIENT_SAMPLING_RATE, rows };
}

function baseOptions(settings: FederationSettings) {
  return {
    labels: settings.labels,
    rounds: settings.rounds,
    backbone: settings.backbone,
    backend: settings.backend,
    cacheDir: settings.cacheDir,
    model: settings.model,
    training: settings.training,
    personalizeEpochs: 0,
    audit: false,
  };
}
