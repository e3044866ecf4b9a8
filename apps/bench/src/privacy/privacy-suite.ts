// `bench privacy` (issue 12): what differential privacy costs. In order: the overhead comparison (four real
// federations side by side), the client-level rows (simulated in this process), then the record-level rows (real
// federations, budget by budget, strategy by strategy, ε by ε, seed by seed). Reuses the domains bench's data draw,
// feature store, client files and federation runner; writes report.json and report.md after every run, so an
// interrupted run still leaves what it finished.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { dirichletLabelSplit } from '@fedtl/data';
import { backboneRefFor, initialWeights, selectBackend } from '@fedtl/model';
import type { ModelSpec } from '@fedtl/protocol';
import { FedAdam, FedAvg, type Strategy } from '@fedtl/strategies';
import { configureLogging, createLogger } from '@fedtl/util';
import type { ResolvedOptions } from '@fedtl/util/options';
import { benchCommand } from '../bench-command';
import { machineInfo } from '../machine';
import { writeClientFiles } from '../domains/budget-run';
import { labelSetOf, labelledFeatures, readDomains, textsToEmbed, withBudget, type DomainBudget } from '../domains/domain-data';
import { embedOnce, type FeatureStore } from '../domains/feature-store';
import { SuiteProgress } from '../suite-progress';
import { accuracyOf } from '../domains/in-process-training';
import { simulateClientLevel, type SimulatedClient } from './client-level-simulation';
import { clientLevelNoise } from './dp-calibration';
import { formatEpsilon, privacyOptionsFrom, type PrivacyOptions, type PrivacyStrategyName } from './privacy-config';
import { PRIVACY_OPTIONS } from './privacy-options';
import { recordNoiseFor, runOverhead, runRecordLevel, type FederationSettings } from './privacy-federations';
import { privacyMarkdown, recordLevelTable } from './privacy-markdown';
import {
  medianOf,
  privacySeedRun,
  summarizePrivacyRow,
  type ClientLevelSection,
  type OverheadSection,
  type PrivacyReport,
  type PrivacyRow,
  type PrivacySeedRun,
  type RecordLevelRow,
} from './privacy-report';

const log = createLogger('bench-privacy');

const LEAKAGE_REPORT = 'docs/results/leakage/';

/** Runs the suite with its resolved options (`fedtl bench privacy`); resolves with the exit status. */
export async function runPrivacySuite(resolved: ResolvedOptions<typeof PRIVACY_OPTIONS>): Promise<number> {
  const parsed = privacyOptionsFrom(resolved.values);
  // Paths are handed to child processes that run in the workspace root: make them absolute.
  const options: PrivacyOptions = { ...parsed, dataDir: resolve(parsed.dataDir), out: resolve(parsed.out), cacheDir: resolve(parsed.cacheDir) };
  configureLogging({ level: options.logLevel, format: options.logFormat });
  const started = performance.now();
  const backend = await selectBackend();
  const draws = new Map<string, DomainBudget[]>();
  const drawKey = (labels: number, seed: number) => `${labels}/${seed}`;
  let labels: string[] = [];
  for (const seed of options.seeds) {
    const domains = await readDomains({ dataDir: options.dataDir, domains: options.domains, seed, validationFraction: options.validate ? options.validationFraction : undefined });
    labels = labelSetOf(domains);
    for (const budget of new Set([...options.labels, options.clientLevel.labelsPerDomain])) draws.set(drawKey(budget, seed), withBudget(domains, budget, seed));
  }
  const first = draws.get(drawKey(options.labels[0], options.seeds[0])) ?? [];
  const names = first.map((d) => d.name);
  const backbone = await backboneRefFor(options.backbone);
  const store = await embedOnce(textsToEmbed([...draws.values()].flat()), backbone, options.backbone, options.cacheDir, options.embedThreads);
  const spec: ModelSpec = { inputDim: backbone.dim, ...options.model, labels };
  const settings: FederationSettings = {
    labels,
    rounds: options.rounds,
    backbone: options.backbone,
    backend,
    cacheDir: options.cacheDir,
    model: options.model,
    training: options.training,
    fedadam: options.serverOptimizers.fedadam,
    delta: options.delta,
    recordClipNorm: options.recordClipNorm,
  };

  const recordLevel: RecordLevelRow[] = [];
  let clientLevel: ClientLevelSection | undefined;
  let overhead: OverheadSection | undefined;
  const report = (): PrivacyReport => ({
    suite: 'privacy',
    backbone: { id: backbone.id, hash: backbone.contentHash },
    domains: names,
    rounds: options.rounds,
    delta: options.delta,
    seeds: options.seeds.filter((seed) => [...recordLevel, ...(clientLevel?.rows ?? [])].some((row) => row.runs.some((r) => r.seed === seed))),
    evaluatedOn: options.validate ? 'validation' : 'test',
    trainExamples: Object.fromEntries(first.map((d) => [d.name, d.train.length])),
    evaluationExamples: Object.fromEntries(first.map((d) => [d.name, d.evaluation.length])),
    hyperparameters: { ...options.model, ...options.training, fedadam: options.serverOptimizers.fedadam, recordClipNorm: options.recordClipNorm },
    recordLevel,
    ...(clientLevel ? { clientLevel } : {}),
    ...(overhead ? { overhead } : {}),
    leakageReport: LEAKAGE_REPORT,
    backend,
    machine: machineInfo(),
    embedding: store.summary,
    seconds: (performance.now() - started) / 1000,
    command: benchCommand('privacy', PRIVACY_OPTIONS, resolved),
  });
  const save = () => writeReport(options.out, report());

  await mkdir(options.out, { recursive: true });
  // The clients' copies of their texts live in a temporary folder, removed afterwards: OUT keeps results only.
  const clientDir = await mkdtemp(join(tmpdir(), 'fedtl-bench-clients-'));
  try {
    const clientsOf = async (budget: number, seed: number) => writeClientFiles(join(clientDir, `${budget}-${seed}`), draws.get(drawKey(budget, seed)) ?? []);

    const overheadEpsilon = largestFinite(options.epsilons);
    const grid = options.strategies.length * options.epsilons.length * options.seeds.length;
    // The overhead measurement, the client-level simulations and the record-level federations.
    const progress = new SuiteProgress('privacy', (overheadEpsilon !== null ? 1 : 0) + grid + options.labels.length * grid);
    if (overheadEpsilon !== null) {
      const seed = options.seeds[0];
      progress.begin('overhead');
      overhead = await runOverhead(settings, {
        outDir: join(options.out, 'runs', 'overhead'),
        clients: await clientsOf(options.labels[0], seed),
        draw: draws.get(drawKey(options.labels[0], seed)) ?? [],
        labelsPerClient: options.labels[0],
        seed,
        epsilon: overheadEpsilon,
        updateClipNorm: options.clientLevel.clipNorm,
      });
      log.info('overhead done', { rows: overhead.rows.map((r) => ({ name: r.name, secondsPerRound: r.secondsPerRound.toFixed(2) })) });
      progress.end();
      await save();
    }

    progress.begin('client-level simulations');
    clientLevel = await runClientLevel(options, spec, store, draws, drawKey, save, (section) => {
      clientLevel = section;
      progress.end();
    });

    for (const budget of options.labels) {
      for (const strategy of options.strategies) {
        for (const epsilon of options.epsilons) {
          const noise = recordNoiseFor(settings, epsilon, draws.get(drawKey(budget, options.seeds[0])) ?? []);
          const runs: PrivacySeedRun[] = [];
          for (const seed of options.seeds) {
            const row = `${budget}-labels/${strategy}/eps-${formatEpsilon(epsilon).replace('∞', 'inf')}`;
            progress.begin(`seed ${seed} ${row}`);
            const run = await runRecordLevel(settings, {
              runDir: join(options.out, 'runs', 'record-level', `seed-${seed}`, row),
              clients: await clientsOf(budget, seed),
              domains: names,
              strategy,
              epsilon,
              noise,
              seed,
            });
            runs.push(run);
            log.info('federation done', { row, seed, mean: run.mean, spentEpsilon: run.spentEpsilon, seconds: Math.round(run.seconds) });
            progress.end();
            const summary = summarizePrivacyRow(rowHead(strategy, epsilon, noise), runs);
            const at = recordLevel.findIndex((r) => r.labelsPerClient === budget && r.strategy === strategy && r.epsilon === epsilon);
            if (at >= 0) recordLevel[at] = { ...summary, labelsPerClient: budget };
            else recordLevel.push({ ...summary, labelsPerClient: budget });
            await save();
          }
        }
      }
    }
  } finally {
    await rm(clientDir, { recursive: true, force: true });
  }
  const final = report();
  await writeReport(options.out, final);
  process.stdout.write(`\nRecord-level DP, test accuracy (%), ${final.rounds} rounds, seeds ${final.seeds.join(',')}, ${final.seconds.toFixed(0)} s:\n\n${recordLevelTable(final)}\n`);
  log.info('privacy benchmark done', { out: options.out, seconds: Math.round(final.seconds) });
  return 0;
}

function rowHead(strategy: PrivacyStrategyName, epsilon: number | null, noise: { samplingRate: number; steps: number; noiseMultiplier: number } | null) {
  return { strategy, epsilon, noiseMultiplier: noise?.noiseMultiplier ?? null, samplingRate: noise?.samplingRate ?? null, steps: noise?.steps ?? null };
}

function largestFinite(epsilons: ReadonlyArray<number | null>): number | null {
  const finite = epsilons.filter((e): e is number => e !== null);
  return finite.length > 0 ? Math.max(...finite) : null;
}

function strategyFor(name: PrivacyStrategyName, options: PrivacyOptions): Strategy {
  return name === 'fedavg' ? new FedAvg() : new FedAdam({ ...options.serverOptimizers.fedadam });
}

/** Every client-level row, seed by seed; `publish` exposes the section to the report after every run. */
async function runClientLevel(
  options: PrivacyOptions,
  spec: ModelSpec,
  store: FeatureStore,
  draws: ReadonlyMap<string, DomainBudget[]>,
  drawKey: (labels: number, seed: number) => string,
  save: () => Promise<void>,
  publish: (section: ClientLevelSection) => void,
): Promise<ClientLevelSection> {
  const c = options.clientLevel;
  const labels = spec.labels;
  const runs = new Map<string, PrivacySeedRun[]>();
  const rows: PrivacyRow[] = [];
  let sizes: number[] = [];
  let medianUpdateNorm: number | null = null;
  const section = (): ClientLevelSection => ({
    simulated: true,
    settings: c,
    clientExamples: sizes.length > 0 ? { min: Math.min(...sizes), median: medianOf(sizes), max: Math.max(...sizes) } : { min: 0, median: 0, max: 0 },
    medianUpdateNorm,
    rows: [...rows],
  });
  for (const seed of options.seeds) {
    const draw = draws.get(drawKey(c.labelsPerDomain, seed)) ?? [];
    const pool = draw.flatMap((d) => d.train);
    const parts = dirichletLabelSplit(pool, (example) => example.label, { clients: c.clients, alpha: c.alpha, seed });
    if (sizes.length === 0) sizes = parts.map((p) => p.length);
    const clients: SimulatedClient[] = parts.map((part, i) => ({ id: `client-${String(i + 1).padStart(3, '0')}`, train: labelledFeatures(part, store.featuresOf, labels) }));
    const evaluation = draw.map((d) => ({ name: d.name, data: labelledFeatures(d.evaluation, store.featuresOf, labels) }));
    for (const strategy of options.strategies) {
      for (const epsilon of options.epsilons) {
        const noise = epsilon === null ? null : clientLevelNoise({ epsilon, delta: options.delta, samplingRate: c.samplingRate, rounds: c.rounds });
        const result = await simulateClientLevel({
          spec,
          initial: initialWeights(spec, seed),
          strategy: strategyFor(strategy, options),
          clients,
          training: options.training,
          rounds: c.rounds,
          samplingRate: c.samplingRate,
          seed,
          ...(noise ? { dp: { clipNorm: c.clipNorm, noiseMultiplier: noise.noiseMultiplier, delta: options.delta } } : {}),
        });
        if (epsilon === null && medianUpdateNorm === null && result.updateNorms.length > 0) medianUpdateNorm = medianOf(result.updateNorms);
        const perDomain: Record<string, number> = {};
        for (const { name, data } of evaluation) perDomain[name] = await accuracyOf(spec, result.weights, data);
        const key = `${strategy}/${formatEpsilon(epsilon)}`;
        const list = [...(runs.get(key) ?? []), privacySeedRun(seed, perDomain, result.spentEpsilon, result.seconds)];
        runs.set(key, list);
        const row = summarizePrivacyRow(rowHead(strategy, epsilon, noise), list);
        const at = rows.findIndex((r) => r.strategy === strategy && r.epsilon === epsilon);
        if (at >= 0) rows[at] = row;
        else rows.push(row);
        log.info('client-level simulation done', { key, seed, mean: row.mean.mean, spentEpsilon: result.spentEpsilon, clientRounds: result.clientRounds, seconds: Math.round(result.seconds) });
        publish(section());
        await save();
      }
    }
  }
  return section();
}

async function writeReport(out: string, report: PrivacyReport): Promise<void> {
  await writeFile(join(out, 'report.json'), JSON.stringify(report, null, 2) + '\n');
  await writeFile(join(out, 'report.md'), privacyMarkdown(report));
}
