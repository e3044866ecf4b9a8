// `bench cross-task` (issue 11, "Cross-task"): does a federation learn a new task on the same organisations
// better when it starts from what an earlier federation learned (--init-from) than from scratch? Reads the
// domains, draws every seed's source (sentiment) and target (rating) budgets, embeds their texts once into the
// shared feature cache, runs every seed's federations, and writes report.json and report.md.
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { backboneRefFor, selectBackend } from '@fedtl/model';
import { configureLogging, createLogger } from '@fedtl/util';
import type { ResolvedOptions } from '@fedtl/util/options';
import { labelSetOf, readDomains, textsToEmbed, withBudget } from '../domains/domain-data';
import { embedOnce } from '../domains/feature-store';
import { benchCommand } from '../bench-command';
import { machineInfo } from '../machine';
import { crossTaskOptionsFrom } from './cross-task-config';
import { CROSS_TASK_OPTIONS } from './cross-task-options';
import { crossTaskMarkdown, crossTaskTable, differenceTable, referenceLine } from './cross-task-markdown';
import { summarise, type CrossTaskReport, type SeedRuns } from './cross-task-report';
import { runSeed, type SeedPlan } from './cross-task-run';
import { asRatingTask, constantBaselines } from './rating-data';
import { SuiteProgress } from '../suite-progress';

const log = createLogger('bench-cross-task');

/** Runs the suite with its resolved options (`fedtl bench cross-task`); resolves with the exit status. */
export async function runCrossTaskSuite(resolved: ResolvedOptions<typeof CROSS_TASK_OPTIONS>): Promise<number> {
  const parsed = crossTaskOptionsFrom(resolved.values);
  // Paths are handed to child processes that run in the workspace root: make them absolute.
  const options = { ...parsed, dataDir: resolve(parsed.dataDir), out: resolve(parsed.out), cacheDir: resolve(parsed.cacheDir) };
  configureLogging({ level: options.logLevel, format: options.logFormat });
  const started = performance.now();
  const backend = await selectBackend();
  // The validation slice is held out by sentiment label and then relabelled: both tasks see the same texts.
  const sentiment = await readDomains({
    dataDir: options.dataDir,
    domains: options.domains,
    seed: options.seeds[0],
    validationFraction: options.validate ? options.validationFraction : undefined,
  });
  const rating = await asRatingTask(sentiment, options.dataDir);
  const sourceLabels = labelSetOf(sentiment);
  const targetLabels = labelSetOf(rating);
  const backbone = await backboneRefFor(options.backbone);
  const settings = { rounds: options.rounds, backbone: options.backbone, backend, cacheDir: options.cacheDir, model: options.model, training: options.training };
  const plans: SeedPlan[] = options.seeds.map((seed) => ({
    seed,
    runsDir: join(options.out, 'runs', `seed-${seed}`),
    settings,
    source: { labels: sourceLabels, draw: withBudget(sentiment, options.sourceLabelsPerClient, seed) },
    targets: options.targetLabelsPerClient.map((labelsPerClient) => ({ labelsPerClient, labels: targetLabels, draw: withBudget(rating, labelsPerClient, seed) })),
  }));
  const store = await embedOnce(
    textsToEmbed(plans.flatMap((plan) => [...plan.source.draw, ...plan.targets.flatMap((t) => t.draw)])),
    backbone,
    options.backbone,
    options.cacheDir,
    options.embedThreads,
  );
  const perSeed: SeedRuns[] = [];
  const progress = new SuiteProgress('cross-task', plans.length, 'seeds');
  for (const plan of plans) {
    progress.begin(`seed ${plan.seed}`);
    perSeed.push(await runSeed(plan));
    progress.end();
  }

  const domains = sentiment.map((d) => d.name);
  const summary = summarise(perSeed, domains, options.targetLabelsPerClient);
  const baselines = constantBaselines(rating, targetLabels);
  const report: CrossTaskReport = {
    suite: 'cross-task',
    backbone: { id: backbone.id, hash: backbone.contentHash },
    domains,
    seeds: options.seeds,
    rounds: options.rounds,
    evaluatedOn: options.validate ? 'validation' : 'test',
    source: { task: 'sentiment', labels: sourceLabels, labelsPerClient: options.sourceLabelsPerClient, ...summary.source },
    target: { task: 'rating', labels: targetLabels, labelsPerClient: options.targetLabelsPerClient },
    reference: { ...baselines, majorityClassMean: domains.reduce((sum, d) => sum + baselines.majorityClass[d].accuracy, 0) / domains.length },
    rows: summary.rows,
    differences: summary.differences,
    evaluationExamples: Object.fromEntries(rating.map((d) => [d.name, d.evaluation.length])),
    hyperparameters: { ...options.model, ...options.training },
    backend,
    machine: machineInfo(),
    embedding: store.summary,
    seconds: (performance.now() - started) / 1000,
    command: benchCommand('cross-task', CROSS_TASK_OPTIONS, resolved),
    perSeed,
  };
  await mkdir(options.out, { recursive: true });
  await writeFile(join(options.out, 'report.json'), JSON.stringify(report, null, 2) + '\n');
  await writeFile(join(options.out, 'report.md'), crossTaskMarkdown(report));
  process.stdout.write(`\n${crossTaskTable(report)}\n\n${differenceTable(report)}\n\n${referenceLine(report)}\n`);
  log.info('cross-task benchmark done', { out: options.out, seconds: Math.round(report.seconds) });
  return 0;
}
