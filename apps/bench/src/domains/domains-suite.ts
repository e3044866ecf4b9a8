// `bench domains`: reads the domains, embeds every text once into the shared feature cache, runs every method
// at each labelled budget, writes the reports and prints the table.
import { resolve } from 'node:path';
import { backboneRefFor, loadTrainableUseLite, selectBackend } from '@fedtl/model';
import { configureLogging, createLogger } from '@fedtl/util';
import type { ResolvedOptions } from '@fedtl/util/options';
import { benchCommand } from '../bench-command';
import { machineInfo } from '../machine';
import { SuiteProgress } from '../suite-progress';
import { runBudget, type BenchContext } from './budget-run';
import { labelSetOf, readDomains, textsToEmbed, withBudget } from './domain-data';
import { domainsOptionsFrom } from './domains-config';
import { DOMAINS_OPTIONS } from './domains-options';
import { embedOnce } from './feature-store';
import { accuracyTable, secureAggregationLines } from './markdown-report';
import { compressionLines } from './compression-comparison';
import type { DomainsReport } from './report';
import { budgetDir, writeBudgetReport, writeSweepSummary } from './report-files';

const log = createLogger('bench-domains');

/** Runs the suite with its resolved options (`fedtl bench domains`); resolves with the exit status. */
export async function runDomainsSuite(resolved: ResolvedOptions<typeof DOMAINS_OPTIONS>): Promise<number> {
  const parsed = domainsOptionsFrom(resolved.values);
  // Paths are handed to child processes that run in the workspace root: make them absolute.
  const options = { ...parsed, dataDir: resolve(parsed.dataDir), out: resolve(parsed.out), cacheDir: resolve(parsed.cacheDir) };
  configureLogging({ level: options.logLevel, format: options.logFormat });
  const started = performance.now();
  const backend = await selectBackend();
  const domains = await readDomains({
    dataDir: options.dataDir,
    domains: options.domains,
    seed: options.seed,
    validationFraction: options.validate ? options.validationFraction : undefined,
  });
  // Before the embedding (minutes): what the rows alone can refuse, at once.
  const labels = labelSetOf(domains);
  const draws = options.labelsPerClient.map((labelsPerClient) => withBudget(domains, labelsPerClient, options.seed));
  const backbone = await backboneRefFor(options.backbone);
  const store = await embedOnce(textsToEmbed(draws.flat()), backbone, options.backbone, options.cacheDir, options.embedThreads);
  // With LoRA the references train through the encoder in this process; the clients load their own copies.
  const encoder = options.model.lora ? await loadTrainableUseLite({ backend }) : undefined;
  const context: BenchContext = {
    options,
    labels,
    store,
    ...(encoder ? { encoder } : {}),
    backbone,
    backend,
    machine: machineInfo(),
    command: benchCommand('domains', DOMAINS_OPTIONS, resolved),
  };
  try {
    const sweep = options.labelsPerClient.length > 1;
    const reports: DomainsReport[] = [];
    const progress = new SuiteProgress('domains', options.labelsPerClient.length, 'budgets');
    for (const [i, labelsPerClient] of options.labelsPerClient.entries()) {
      const dir = budgetDir(options.out, labelsPerClient, sweep);
      progress.begin(`${labelsPerClient} labels per client`);
      const report = await runBudget(context, labelsPerClient, draws[i], dir);
      progress.end();
      // The first budget's wall time includes reading and embedding, so a single run reports the whole command.
      if (reports.length === 0) report.seconds = (performance.now() - started) / 1000;
      await writeBudgetReport(dir, report);
      reports.push(report);
      process.stdout.write(`\n${report.labelsPerClient} labels per client, ${report.evaluatedOn} accuracy (%), ${report.rounds} rounds, ${report.seconds.toFixed(0)} s:\n\n${accuracyTable(report)}\n`);
      const secure = secureAggregationLines(report);
      if (secure.length > 0) process.stdout.write(`\n${secure.join('\n')}\n`);
      if (report.compression) process.stdout.write(`\n${compressionLines(report.compression, report.domains).join('\n')}\n`);
      if (report.negativeTransfer.length > 0) {
        process.stdout.write(`negative transfer: ${report.negativeTransfer.map((n) => `${n.method}/${n.domain} ${(100 * n.delta).toFixed(1)}`).join(', ')}\n`);
      }
    }
    if (sweep) await writeSweepSummary(options.out, reports);
  } finally {
    // The encoder's weights are tensors of this process: freed whether the suite finished or failed.
    encoder?.dispose();
  }
  log.info('domains benchmark done', { out: options.out, seconds: Math.round((performance.now() - started) / 1000) });
  return 0;
}
