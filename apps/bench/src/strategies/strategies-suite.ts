// `bench strategies`: every aggregation strategy as a real federation of the domains benchmark (one client
// process per domain), once per seed, and the robust strategies (and fedavg) again with one client attacking.
// Reuses the domains bench's data draw, feature store, client files and federation runner; writes report.json
// and report.md after every seed, so an interrupted run still leaves the seeds it finished.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { backboneRefFor, selectBackend } from '@fedtl/model';
import { configError, configureLogging, createLogger } from '@fedtl/util';
import type { ResolvedOptions } from '@fedtl/util/options';
import { benchCommand } from '../bench-command';
import { machineInfo } from '../machine';
import { resultFromCurves, traffic, writeClientFiles } from '../domains/budget-run';
import { labelSetOf, readDomains, textsToEmbed, withBudget, type DomainBudget } from '../domains/domain-data';
import { embedOnce } from '../domains/feature-store';
import { runFederation, type FederationClient } from '../domains/federation-run';
import { checkRulesFit, federationStrategy, strategiesOptionsFrom, type StrategiesOptions, type StrategyName } from './strategies-config';
import { STRATEGIES_OPTIONS } from './strategies-options';
import { strategiesMarkdown, strategiesTable, targetLines } from './strategies-markdown';
import { checkTargets, seedRun, summarizeRow, type SeedRun, type StrategiesReport } from './strategies-report';
import { SuiteProgress } from '../suite-progress';

const log = createLogger('bench-strategies');

interface RowPlan {
  strategy: StrategyName;
  attacked: boolean;
}

/** The table's rows in order: every strategy without attacker, then the attacked ones. */
export function rowPlan(options: Pick<StrategiesOptions, 'strategies' | 'attacked'>): RowPlan[] {
  return [...options.strategies.map((strategy) => ({ strategy, attacked: false })), ...options.attacked.map((strategy) => ({ strategy, attacked: true }))];
}

const rowName = (row: RowPlan) => (row.attacked ? `${row.strategy}-attacked` : row.strategy);

/** Runs the suite with its resolved options (`fedtl bench strategies`); resolves with the exit status. */
export async function runStrategiesSuite(resolved: ResolvedOptions<typeof STRATEGIES_OPTIONS>): Promise<number> {
  const parsed = strategiesOptionsFrom(resolved.values);
  // Paths are handed to child processes that run in the workspace root: make them absolute.
  const options = { ...parsed, dataDir: resolve(parsed.dataDir), out: resolve(parsed.out), cacheDir: resolve(parsed.cacheDir) };
  configureLogging({ level: options.logLevel, format: options.logFormat });
  const started = performance.now();
  const backend = await selectBackend();
  // The seed also picks the validation slice under --validate, as in `bench domains --seed`.
  const draws = new Map<number, DomainBudget[]>();
  let labels: string[] = [];
  for (const seed of options.seeds) {
    const domains = await readDomains({
      dataDir: options.dataDir,
      domains: options.domains,
      seed,
      validationFraction: options.validate ? options.validationFraction : undefined,
    });
    labels = labelSetOf(domains);
    draws.set(seed, withBudget(domains, options.labelsPerClient, seed));
  }
  const first = draws.get(options.seeds[0]) ?? [];
  const names = first.map((d) => d.name);
  const attacker = options.attacker ?? names[0];
  if (!names.includes(attacker)) throw configError('--attacker', `one of the domains [${names.join(', ')}]`, attacker);
  checkRulesFit(options, names.length);
  const backbone = await backboneRefFor(options.backbone);
  const store = await embedOnce(textsToEmbed([...draws.values()].flat()), backbone, options.backbone, options.cacheDir, options.embedThreads);
  const plan = rowPlan(options);
  const runs = new Map<string, SeedRun[]>(plan.map((row) => [rowName(row), []]));
  const report = (): StrategiesReport => {
    const rows = plan.filter((row) => (runs.get(rowName(row)) ?? []).length > 0).map((row) => summarizeRow(row.strategy, row.attacked, runs.get(rowName(row)) ?? []));
    return {
      suite: 'strategies',
      backbone: { id: backbone.id, hash: backbone.contentHash },
      domains: names,
      labelsPerClient: options.labelsPerClient,
      rounds: options.rounds,
      seeds: options.seeds.filter((seed) => rows.some((row) => row.runs.some((r) => r.seed === seed))),
      evaluatedOn: options.validate ? 'validation' : 'test',
      attack: { kind: 'scaled sign flip', client: attacker, scale: options.signFlipScale },
      trainExamples: Object.fromEntries(first.map((d) => [d.name, d.train.length])),
      evaluationExamples: Object.fromEntries(first.map((d) => [d.name, d.evaluation.length])),
      hyperparameters: { ...options.model, ...options.training, serverOptimizers: options.serverOptimizers, strategies: options.settings },
      backend,
      machine: machineInfo(),
      embedding: store.summary,
      seconds: (performance.now() - started) / 1000,
      command: benchCommand('strategies', STRATEGIES_OPTIONS, resolved),
      rows,
      targets: checkTargets(rows),
    };
  };

  await mkdir(options.out, { recursive: true });
  const progress = new SuiteProgress('strategies', options.seeds.length * plan.length);
  for (const seed of options.seeds) {
    // The clients' copies of their texts live in a temporary folder, removed afterwards: OUT keeps results only.
    const clientDir = await mkdtemp(join(tmpdir(), 'fedtl-bench-clients-'));
    try {
      const honest = await writeClientFiles(clientDir, draws.get(seed) ?? []);
      for (const row of plan) {
        progress.begin(`seed ${seed} ${rowName(row)}`);
        const clients: FederationClient[] = honest.map((c) => (row.attacked && c.id === attacker ? { ...c, signFlipScale: options.signFlipScale } : c));
        const federation = await runFederation({
          runDir: join(options.out, 'runs', `seed-${seed}`, rowName(row)),
          clients,
          labels,
          rounds: options.rounds,
          seed,
          backbone: options.backbone,
          backend,
          cacheDir: options.cacheDir,
          model: options.model,
          training: options.training,
          strategy: federationStrategy(row.strategy, options),
          personalizeEpochs: 0,
          audit: false,
          secureAggregation: false,
        });
        const { perDomain } = resultFromCurves(names.map((name) => ({ name, accuracies: federation.records.map((r) => r.clients[name]?.accuracy ?? NaN) })));
        const run = seedRun(seed, perDomain, attacker, { ...traffic(federation.records), seconds: federation.seconds });
        runs.get(rowName(row))?.push(run);
        log.info('federation done', { seed, row: rowName(row), mean: run.mean, honestMean: run.honestMean, seconds: Math.round(federation.seconds) });
        progress.end();
      }
    } finally {
      await rm(clientDir, { recursive: true, force: true });
    }
    await writeReport(options.out, report());
  }
  const final = report();
  await writeReport(options.out, final);
  process.stdout.write(`\n${final.labelsPerClient} labels per client, ${final.evaluatedOn} accuracy (%), ${final.rounds} rounds, seeds ${final.seeds.join(',')}, ${final.seconds.toFixed(0)} s:\n\n${strategiesTable(final)}\n\n${targetLines(final).join('\n')}\n`);
  log.info('strategies benchmark done', { out: options.out, seconds: Math.round(final.seconds) });
  return 0;
}

/** `word` as a shell reads it back: quoted when empty or when it holds anything but safe characters. */
async function writeReport(out: string, report: StrategiesReport): Promise<void> {
  await writeFile(join(out, 'report.json'), JSON.stringify(report, null, 2) + '\n');
  await writeFile(join(out, 'report.md'), strategiesMarkdown(report));
}
