// Every method of the cross-domain benchmark at one labelled budget per client: the two references trained
// here (local, centralized), one real federation measured as fedavg and personalized, the same federation under
// secure aggregation (fedavg-secagg, compared round by round with fedavg), and one real federation per held-out
// domain for leave-one-out.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeJsonl } from '@fedtl/data';
import { firstLoraLayer, initialWeights, type LabelledExamples, type TrainableUseLite } from '@fedtl/model';
import type { LabelledText } from '@fedtl/data';
import type { BackboneRef, ModelSpec } from '@fedtl/protocol';
import { createLogger } from '@fedtl/util';
import type { MachineInfo } from '../machine';
import { replayGlobals, maxAbsDifference } from './audit-replay';
import { checkpointPath, readCheckpointWeights } from './checkpoint-reader';
import { labelledEncoderStates, labelledFeatures, type DomainBudget } from './domain-data';
import { METHOD_NAMES, type DomainsOptions, type MethodName } from './domains-config';
import type { FeatureStore } from './feature-store';
import { runFederation, type FederationClient, type FederationStrategy, type RoundRecord } from './federation-run';
import { accuracyOf, trainAlone, union, type InProcessRun } from './in-process-training';
import { meanOf, negativeTransfer, type CurvePoint, type DomainsReport, type MethodResult } from './report';
import { compareSecAgg } from './secagg-comparison';
import { compareCompressions, type CompressionComparison, type CompressionRun } from './compression-comparison';

export interface BenchContext {
  options: DomainsOptions;
  labels: string[];
  store: FeatureStore;
  /** The re-implemented use-lite encoder, when the model has LoRA (the references train through it). */
  encoder?: TrainableUseLite;
  backbone: BackboneRef;
  backend: string;
  machine: MachineInfo;
  command: string;
}

/** Weights saved by the coordinator and rebuilt from its audit may differ by float32 rounding only. */
const REPLAY_TOLERANCE = 1e-5;

const log = createLogger('bench-domains');

export async function runBudget(context: BenchContext, labelsPerClient: number, budget: readonly DomainBudget[], outDir: string): Promise<DomainsReport> {
  const started = performance.now();
  const { options, labels } = context;
  const names = budget.map((domain) => domain.name);
  // Indexed like `names`.
  const spec: ModelSpec = { inputDim: context.backbone.dim, ...options.model, labels };
  const examplesOf = async (examples: readonly LabelledText[]): Promise<LabelledExamples> =>
    spec.lora && context.encoder ? labelledEncoderStates(context.encoder, examples, labels, firstLoraLayer(spec.lora)) : labelledFeatures(examples, context.store.featuresOf, labels);
  const wantsReferences = options.methods.includes('local') || options.methods.includes('centralized') || options.methods.includes('leave-one-out');
  // Indexed like `names`; only the references and leave-one-out's evaluation read them (clients prepare their own).
  const train: LabelledExamples[] = [];
  const evaluation: LabelledExamples[] = [];
  for (const d of wantsReferences ? budget : []) {
    train.push(await examplesOf(d.train));
    evaluation.push(await examplesOf(d.evaluation));
  }
  const run: InProcessRun = { spec, training: options.training, rounds: options.rounds, seed: options.seed };
  const methods: DomainsReport['methods'] = {};
  let secureAggregation: DomainsReport['secureAggregation'];
  let compression: CompressionComparison | undefined;
  const wants = (method: MethodName) => options.methods.includes(method);
  await mkdir(outDir, { recursive: true });

  if (wants('local')) {
    const t = performance.now();
    const perDomain: Record<string, number> = {};
    for (const [i, name] of names.entries()) perDomain[name] = await accuracyOf(spec, await trainAlone(run, train[i], name), evaluation[i]);
    methods.local = referenceResult(perDomain, options.rounds, t);
    log.info('local done', { labelsPerClient, mean: methods.local.mean });
  }
  if (wants('centralized')) {
    const t = performance.now();
    const weights = await trainAlone(run, union(train), 'centralized');
    const perDomain: Record<string, number> = {};
    for (const [i, name] of names.entries()) perDomain[name] = await accuracyOf(spec, weights, evaluation[i]);
    methods.centralized = referenceResult(perDomain, options.rounds, t);
    log.info('centralized done', { labelsPerClient, mean: methods.centralized.mean });
  }

  // The clients' copies of their texts live in a temporary folder, removed afterwards: OUT keeps results only.
  const clientDir = await mkdtemp(join(tmpdir(), 'fedtl-bench-clients-'));
  try {
    const clients = await writeClientFiles(clientDir, budget);
    let plainRecords: RoundRecord[] | undefined;
    let plainSeconds = 0;
    if (wants('fedavg') || wants('personalized')) {
      const federation = await runFederation({
        ...federationSettings(context),
        runDir: join(outDir, 'runs', 'fedavg'),
        clients,
        strategy: { name: 'fedavg' },
        personalizeEpochs: wants('personalized') ? options.personalizeEpochs : 0,
        audit: false,
        secureAggregation: false,
      });
      plainRecords = federation.records;
      plainSeconds = federation.seconds;
      const fromRecords = (metric: string): MethodResult => ({
        ...resultFromCurves(names.map((name) => ({ name, accuracies: federation.records.map((r) => r.clients[name]?.[metric] ?? NaN) }))),
        ...traffic(federation.records),
        seconds: federation.seconds,
      });
      if (wants('fedavg')) methods.fedavg = fromRecords('accuracy');
      if (wants('personalized')) methods.personalized = { ...fromRecords('personalizedAccuracy'), ...(wants('fedavg') ? { sharedRunWith: 'fedavg' as const } : {}) };
      log.info('federation done', { labelsPerClient, fedavg: methods.fedavg?.mean, personalized: methods.personalized?.mean, seconds: federation.seconds });
    }
    // The fedavg federation again, under secure aggregation: same clients, seed, model, training and rounds. The
    // private head fine-tuning of personalized runs on a copy with its own seed and does not touch the shared
    // model, so it is left out here.
    if (wants('fedavg-secagg')) {
      const federation = await runFederation({
        ...federationSettings(context),
        runDir: join(outDir, 'runs', 'fedavg-secagg'),
        clients,
        strategy: { name: 'fedavg' },
        personalizeEpochs: 0,
        audit: false,
        secureAggregation: true,
      });
      methods['fedavg-secagg'] = {
        ...resultFromCurves(names.map((name) => ({ name, accuracies: federation.records.map((r) => r.clients[name]?.accuracy ?? NaN) }))),
        ...traffic(federation.records),
        seconds: federation.seconds,
      };
      if (plainRecords && wants('fedavg')) {
        const finalWeights = (method: MethodName) => readCheckpointWeights(checkpointPath(join(outDir, 'runs', method), options.rounds));
        const weightDifference = maxAbsDifference(await finalWeights('fedavg'), await finalWeights('fedavg-secagg'));
        const evaluationExamples = Object.fromEntries(budget.map((d) => [d.name, d.evaluation.length]));
        secureAggregation = compareSecAgg(plainRecords, federation.records, names, evaluationExamples, weightDifference);
      } else {
        log.warn('fedavg-secagg without fedavg: no accuracy comparison (run --methods fedavg,fedavg-secagg)', { labelsPerClient });
      }
      log.info('federation done', {
        labelsPerClient,
        'fedavg-secagg': methods['fedavg-secagg']?.mean,
        maxAccuracyDifference: secureAggregation?.maxAccuracyDifference,
        seconds: federation.seconds,
      });
    }
    // The fedavg federation once per update compression; float32 is the fedavg row's run when there is one.
    if (options.compression.length > 0) {
      const loadBefore = loadavg();
      const runs: CompressionRun[] = [];
      for (const word of options.compression) {
        if (word === 'float32' && plainRecords) {
          runs.push({ compression: word, records: plainRecords, seconds: plainSeconds, sharedRunWith: 'fedavg' });
          continue;
        }
        const federation = await runFederation({
          ...federationSettings(context),
          runDir: join(outDir, 'runs', `compression-${word.replace(':', '-')}`),
          clients,
          strategy: { name: 'fedavg' },
          personalizeEpochs: 0,
          audit: false,
          secureAggregation: false,
          compression: word,
        });
        runs.push({ compression: word, records: federation.records, seconds: federation.seconds });
        log.info('federation done', { labelsPerClient, compression: word, seconds: federation.seconds });
      }
      compression = compareCompressions(runs, names, { before: loadBefore, after: loadavg() });
      for (const row of compression.rows) {
        log.info('compression', { compression: row.compression, bytesUpPerRound: Math.round(row.bytesUpPerRound), reduction: row.bytesUpReduction, mean: row.mean, deltaVsFloat32: row.deltaVsFloat32 });
      }
    }
    // The same federation with a server optimiser instead of the plain average: one run per row.
    const serverOptimized: Array<[MethodName, FederationStrategy]> = [
      ['fedavgm', { name: 'fedavgm', ...options.serverOptimizers.fedavgm }],
      ['fedadam', { name: 'fedadam', ...options.serverOptimizers.fedadam }],
    ];
    for (const [method, strategy] of serverOptimized.filter(([name]) => wants(name))) {
      const federation = await runFederation({
        ...federationSettings(context),
        runDir: join(outDir, 'runs', method),
        clients,
        strategy,
        personalizeEpochs: 0,
        audit: false,
        secureAggregation: false,
      });
      methods[method] = {
        ...resultFromCurves(names.map((name) => ({ name, accuracies: federation.records.map((r) => r.clients[name]?.accuracy ?? NaN) }))),
        ...traffic(federation.records),
        seconds: federation.seconds,
      };
      log.info('federation done', { labelsPerClient, [method]: methods[method]?.mean, seconds: federation.seconds });
    }
    if (wants('leave-one-out') && names.length < 2) log.warn('leave-one-out needs at least two domains; skipped', { domains: names });
    if (wants('leave-one-out') && names.length > 1) {
      const t = performance.now();
      const curves: Array<{ name: string; accuracies: number[] }> = [];
      const records: RoundRecord[][] = [];
      for (const [i, heldOut] of names.entries()) {
        const runDir = join(outDir, 'runs', `leave-out-${heldOut}`);
        const federation = await runFederation({
          ...federationSettings(context),
          runDir,
          clients: clients.filter((client) => client.id !== heldOut),
          strategy: { name: 'fedavg' },
          personalizeEpochs: 0,
          audit: true,
          secureAggregation: false,
        });
        const globals = await replayGlobals(initialWeights(spec, options.seed), federation.auditDir, options.rounds);
        const saved = await readCheckpointWeights(checkpointPath(runDir, options.rounds));
        const drift = maxAbsDifference(globals[globals.length - 1], saved);
        if (drift > REPLAY_TOLERANCE) throw new Error(`${runDir}: weights rebuilt from the audit differ from the final checkpoint by ${drift}`);
        // The audit is only needed for the replay; it would make OUT grow with every round.
        await rm(federation.auditDir, { recursive: true, force: true });
        const accuracies: number[] = [];
        for (const weights of globals) accuracies.push(await accuracyOf(spec, weights, evaluation[i]));
        curves.push({ name: heldOut, accuracies });
        records.push(federation.records);
        log.info('leave-one-out run done', { labelsPerClient, heldOut, accuracy: accuracies[accuracies.length - 1] });
      }
      const perRun = records.map(traffic);
      methods['leave-one-out'] = {
        ...resultFromCurves(curves),
        bytesUp: meanOf(perRun.map((r) => r.bytesUp)),
        bytesDown: meanOf(perRun.map((r) => r.bytesDown)),
        seconds: (performance.now() - t) / 1000,
      };
    }
  } finally {
    await rm(clientDir, { recursive: true, force: true });
  }

  return {
    suite: 'domains',
    backbone: { id: context.backbone.id, hash: context.backbone.contentHash },
    domains: names,
    labelsPerClient,
    rounds: options.rounds,
    seed: options.seed,
    evaluatedOn: options.validate ? 'validation' : 'test',
    trainExamples: Object.fromEntries(budget.map((d) => [d.name, d.train.length])),
    evaluationExamples: Object.fromEntries(budget.map((d) => [d.name, d.evaluation.length])),
    hyperparameters: { ...options.model, ...options.training, personalizeEpochs: options.personalizeEpochs, serverOptimizers: options.serverOptimizers },
    backend: context.backend,
    machine: context.machine,
    embedding: context.store.summary,
    seconds: (performance.now() - started) / 1000,
    command: context.command,
    // Rows in the canonical order, whatever order the runs finished in.
    methods: Object.fromEntries(METHOD_NAMES.filter((name) => methods[name]).map((name) => [name, methods[name]])),
    negativeTransfer: negativeTransfer(methods),
    ...(secureAggregation ? { secureAggregation } : {}),
    ...(compression ? { compression } : {}),
  };
}

function federationSettings(context: BenchContext) {
  const { options } = context;
  return {
    labels: context.labels,
    rounds: options.rounds,
    seed: options.seed,
    backbone: options.backbone,
    backend: context.backend,
    cacheDir: options.cacheDir,
    model: options.model,
    training: options.training,
  };
}

/** The exact texts each client holds, as JSONL files its process reads (the same draw the references use). */
export async function writeClientFiles(dir: string, budget: readonly DomainBudget[]): Promise<FederationClient[]> {
  await mkdir(dir, { recursive: true });
  return Promise.all(
    budget.map(async (domain) => {
      const trainFile = join(dir, `${domain.name}.train.jsonl`);
      const testFile = join(dir, `${domain.name}.evaluation.jsonl`);
      await writeJsonl(trainFile, domain.train);
      await writeJsonl(testFile, domain.evaluation);
      return { id: domain.name, trainFile, testFile };
    }),
  );
}

function referenceResult(perDomain: Record<string, number>, rounds: number, startedAt: number): MethodResult {
  const mean = meanOf(Object.values(perDomain));
  return { mean, perDomain, curve: [{ round: rounds, mean }], bytesUp: 0, bytesDown: 0, seconds: (performance.now() - startedAt) / 1000 };
}

/** Per-domain accuracy after the last round, and the mean over domains after every round. */
export function resultFromCurves(curves: ReadonlyArray<{ name: string; accuracies: number[] }>): Pick<MethodResult, 'mean' | 'perDomain' | 'curve'> {
  const perDomain = Object.fromEntries(curves.map((c) => [c.name, c.accuracies[c.accuracies.length - 1]]));
  const rounds = Math.min(...curves.map((c) => c.accuracies.length));
  const curve: CurvePoint[] = Array.from({ length: rounds }, (_, i) => ({ round: i + 1, mean: meanOf(curves.map((c) => c.accuracies[i])) }));
  return { mean: meanOf(Object.values(perDomain)), perDomain, curve };
}

/** Mean protocol bytes per round of one run. */
export function traffic(records: readonly RoundRecord[]): { bytesUp: number; bytesDown: number } {
  return { bytesUp: meanOf(records.map((r) => r.bytesUp)), bytesDown: meanOf(records.map((r) => r.bytesDown)) };
}
