// One seed of the cross-task experiment, every federation real (the domains benchmark's runFederation: a
// coordinator and one client process per domain over Socket.IO): the source federation on sentiment, then per
// target budget a rating federation started with --init-from the source run's dir and one from scratch, with the
// same seed, clients, draw and training, so that only the start differs.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@fedtl/util';
import { writeClientFiles } from '../domains/budget-run';
import type { DomainBudget } from '../domains/domain-data';
import { runFederation, type FederationClient, type FederationOptions, type RoundRecord } from '../domains/federation-run';
import { meanOf } from '../domains/report';
import { INITS, type FederationOutcome, type Init, type SeedRuns } from './cross-task-report';

/** What every federation of the experiment shares; runFederation's options without the per-run parts. */
export type SharedFederationSettings = Pick<FederationOptions, 'rounds' | 'backbone' | 'backend' | 'cacheDir' | 'model' | 'training'>;

export interface SeedPlan {
  seed: number;
  /** Where this seed's run dirs go (runs/seed-S under the report's folder). */
  runsDir: string;
  settings: SharedFederationSettings;
  source: { labels: string[]; draw: readonly DomainBudget[] };
  /** One per target budget, each drawn stratified by rating. */
  targets: Array<{ labelsPerClient: number; labels: string[]; draw: readonly DomainBudget[] }>;
}

const log = createLogger('bench-cross-task');

/** The run dir of one federation under a seed's runs dir. */
export function runDirOf(runsDir: string, run: 'source' | { labelsPerClient: number; init: Init }): string {
  return join(runsDir, run === 'source' ? 'source' : `rating-${run.labelsPerClient}-${run.init}`);
}

/**
 * The final global model's per-domain accuracy and macro-F1 (the clients' evaluation after the last aggregated
 * round) and the mean accuracy curve. Throws when a domain's record lacks either metric.
 */
export function outcomeOf(records: readonly RoundRecord[], domains: readonly string[], seconds: number): FederationOutcome {
  const last = records[records.length - 1];
  if (!last) throw new Error(`expected at least one aggregated round, got none`);
  const metric = (record: RoundRecord, domain: string, name: 'accuracy' | 'macroF1'): number => {
    const value = record.clients[domain]?.[name];
    if (value === undefined) throw new Error(`round ${record.round}: expected ${domain}'s ${name} in metrics.jsonl, got ${JSON.stringify(record.clients[domain])}`);
    return value;
  };
  const perDomain = Object.fromEntries(domains.map((domain) => [domain, { accuracy: metric(last, domain, 'accuracy'), macroF1: metric(last, domain, 'macroF1') }]));
  return {
    perDomain,
    accuracy: meanOf(domains.map((d) => perDomain[d].accuracy)),
    macroF1: meanOf(domains.map((d) => perDomain[d].macroF1)),
    curve: records.map((record) => meanOf(domains.map((d) => metric(record, d, 'accuracy')))),
    seconds,
  };
}

async function federate(plan: SeedPlan, runDir: string, clients: FederationClient[], labels: string[], initFrom?: string): Promise<FederationOutcome> {
  const federation = await runFederation({
    ...plan.settings,
    runDir,
    clients,
    labels,
    seed: plan.seed,
    strategy: { name: 'fedavg' },
    personalizeEpochs: 0,
    audit: false,
    secureAggregation: false,
    ...(initFrom !== undefined ? { initFrom } : {}),
  });
  return outcomeOf(federation.records, clients.map((c) => c.id), federation.seconds);
}

/** Runs the source federation and every target pair of one seed; 1 + 2 × budgets federations in sequence. */
export async function runSeed(plan: SeedPlan): Promise<SeedRuns> {
  // The clients' copies of their texts live in a temporary folder, removed afterwards: OUT keeps results only.
  const clientDir = await mkdtemp(join(tmpdir(), 'fedtl-bench-cross-task-'));
  try {
    const sourceDir = runDirOf(plan.runsDir, 'source');
    const sourceClients = await writeClientFiles(join(clientDir, 'source'), plan.source.draw);
    const source = await federate(plan, sourceDir, sourceClients, plan.source.labels);
    log.info('source federation done', { seed: plan.seed, accuracy: source.accuracy, seconds: source.seconds });
    const targets: SeedRuns['targets'] = {};
    for (const target of plan.targets) {
      const clients = await writeClientFiles(join(clientDir, `rating-${target.labelsPerClient}`), target.draw);
      const pair = {} as Record<Init, FederationOutcome>;
      for (const init of INITS) {
        const runDir = runDirOf(plan.runsDir, { labelsPerClient: target.labelsPerClient, init });
        pair[init] = await federate(plan, runDir, clients, target.labels, init === 'init-from' ? sourceDir : undefined);
        log.info('rating federation done', { seed: plan.seed, labelsPerClient: target.labelsPerClient, init, accuracy: pair[init].accuracy, seconds: pair[init].seconds });
      }
      targets[String(target.labelsPerClient)] = pair;
    }
    return { seed: plan.seed, source, targets };
  } finally {
    await rm(clientDir, { recursive: true, force: true });
  }
}
