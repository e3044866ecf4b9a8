// `bench few-shot` flags, parsed and validated once here. The model and local training are the domains bench's
// (DOMAINS_DEFAULTS); what is new is the held-out-domain protocol and the adaptation.
import { parseArgs } from 'node:util';
import { PER_FEDAVG_DEFAULTS } from '@fedtl/strategies';
import { configError, isLogLevel, parseInteger, parsePositiveNumber, type LogLevel } from '@fedtl/util';
import { DOMAINS_DEFAULTS, type ModelOptions, type TrainingOptions } from '../domains/domains-config';

export interface FewShotOptions {
  dataDir: string;
  out: string;
  /** Empty: every domain in dataDir. Each takes its turn as the new one. */
  domains: string[];
  seeds: number[];
  /** k: labelled examples of the new domain. */
  shots: number[];
  /** Labelled examples per federating client. */
  labelsPerClient: number;
  rounds: number;
  /** Full-batch SGD steps of the new client's adaptation, the same for every initialisation. */
  steps: number;
  /** The adaptation's step size, and Per-FedAvg's inner step α (the step it meta-learns for). */
  adaptLearningRate: number;
  validate: boolean;
  validationFraction: number;
  cacheDir: string;
  backbone: string;
  model: ModelOptions;
  training: TrainingOptions;
  embedThreads: number;
  logLevel: LogLevel;
}

export const FEW_SHOT_DEFAULTS = {
  seeds: [1, 2, 3, 4, 5],
  shots: [8, 32, 128],
  labelsPerClient: 200,
  rounds: DOMAINS_DEFAULTS.rounds,
  steps: 10,
  adaptLearningRate: PER_FEDAVG_DEFAULTS.metaInnerLearningRate,
} as const;

export const FEW_SHOT_USAGE = `Usage: npm run bench -- few-shot --data-dir DIR --out OUT [options]

Each domain in turn is the new one: the other domains federate (one real client process each, a real
coordinator), once with --strategy fedavg and once with --strategy per-fedavg; then the new domain adapts from
k labelled examples with the same few full-batch SGD steps (the client's --adapt-only procedure) from (a) the
meta-learned (Per-FedAvg) weights, (b) the FedAvg weights and (c) a fresh adapter and head, and is scored on its
test file. Figures are means over domains, then mean ± sample std over seeds.

  --data-dir DIR             folder of DOMAIN.train.jsonl and DOMAIN.test.jsonl files
  --out OUT                  where report.json and report.md go
  --domains a,b,c            domains to use (default: all in DIR; at least 2)
  --seeds 1,2,3              seeds of the draws, initialisation and training (default ${FEW_SHOT_DEFAULTS.seeds.join(',')})
  --shots 8,32,128           labelled examples of the new domain (default ${FEW_SHOT_DEFAULTS.shots.join(',')})
  --labels-per-client N      labelled examples per federating client (default ${FEW_SHOT_DEFAULTS.labelsPerClient})
  --rounds R                 federated rounds (default ${FEW_SHOT_DEFAULTS.rounds})
  --steps S                  adaptation steps (default ${FEW_SHOT_DEFAULTS.steps})
  --adapt-learning-rate A    adaptation step size, also per-fedavg's --meta-inner-learning-rate (default ${FEW_SHOT_DEFAULTS.adaptLearningRate})
  --validate                 score on a held-out slice of each training file, not the test files (for tuning)
  --validation-fraction F    default ${DOMAINS_DEFAULTS.validationFraction}
  --cache-dir DIR            feature cache shared by the bench and its clients (default ${DOMAINS_DEFAULTS.cacheDir})
  --embed-threads N          embedding worker threads (default: one per core)
  --log-level LEVEL          debug|info|warn|error (default info)
The model and the clients' local training are the domains bench's defaults (adapter ${DOMAINS_DEFAULTS.model.adapterWidth}, ${DOMAINS_DEFAULTS.model.head} head,
${DOMAINS_DEFAULTS.training.optimizer} ${DOMAINS_DEFAULTS.training.learningRate}, batch ${DOMAINS_DEFAULTS.training.batchSize}, ${DOMAINS_DEFAULTS.training.localEpochs} local epoch per round).
`;

const FLAGS = {
  'data-dir': { type: 'string' },
  out: { type: 'string' },
  domains: { type: 'string' },
  seeds: { type: 'string' },
  shots: { type: 'string' },
  'labels-per-client': { type: 'string' },
  rounds: { type: 'string' },
  steps: { type: 'string' },
  'adapt-learning-rate': { type: 'string' },
  validate: { type: 'boolean' },
  'validation-fraction': { type: 'string' },
  'cache-dir': { type: 'string' },
  'embed-threads': { type: 'string' },
  'log-level': { type: 'string' },
  help: { type: 'boolean' },
} as const;

/** Distinct integers ≥ `least` from a comma-separated flag. */
function integerList(name: string, value: string, least: number): number[] {
  const items = value.split(',').map((s) => s.trim()).filter(Boolean).map((item) => parseInteger(name, item, least));
  if (items.length === 0 || new Set(items).size !== items.length) throw configError(name, `distinct integers ≥ ${least}, comma-separated`, value);
  return items;
}

/** @throws FedtlError FEDTL_ERR_BAD_CONFIG naming the flag, what it takes and what came. */
export function parseFewShotArgs(argv: string[]): FewShotOptions | 'help' {
  const { values: v } = parseArgs({ args: argv, options: FLAGS, strict: true, allowPositionals: false });
  if (v.help) return 'help';
  if (!v['data-dir']) throw configError('--data-dir', 'a folder of DOMAIN.train.jsonl / DOMAIN.test.jsonl files', v['data-dir']);
  if (!v.out) throw configError('--out', 'an output folder', v.out);
  const validationFraction = v['validation-fraction'] === undefined ? DOMAINS_DEFAULTS.validationFraction : Number(v['validation-fraction']);
  if (!(validationFraction > 0 && validationFraction < 1)) throw configError('--validation-fraction', 'a number in (0, 1)', v['validation-fraction']);
  const domains = v.domains === undefined ? [] : v.domains.split(',').map((s) => s.trim()).filter(Boolean);
  if (v.domains !== undefined && domains.length < 2) throw configError('--domains', 'at least two domains (one is new, the others federate)', v.domains);
  const logLevel = v['log-level'] ?? 'info';
  if (!isLogLevel(logLevel)) throw configError('--log-level', 'debug|info|warn|error', logLevel);
  return {
    dataDir: v['data-dir'],
    out: v.out,
    domains,
    seeds: v.seeds === undefined ? [...FEW_SHOT_DEFAULTS.seeds] : integerList('--seeds', v.seeds, 0),
    shots: v.shots === undefined ? [...FEW_SHOT_DEFAULTS.shots] : integerList('--shots', v.shots, 1),
    labelsPerClient: v['labels-per-client'] === undefined ? FEW_SHOT_DEFAULTS.labelsPerClient : parseInteger('--labels-per-client', v['labels-per-client'], 2),
    rounds: v.rounds === undefined ? FEW_SHOT_DEFAULTS.rounds : parseInteger('--rounds', v.rounds, 1),
    steps: v.steps === undefined ? FEW_SHOT_DEFAULTS.steps : parseInteger('--steps', v.steps, 1),
    adaptLearningRate: v['adapt-learning-rate'] === undefined ? FEW_SHOT_DEFAULTS.adaptLearningRate : parsePositiveNumber('--adapt-learning-rate', v['adapt-learning-rate']),
    validate: v.validate ?? false,
    validationFraction,
    cacheDir: v['cache-dir'] ?? DOMAINS_DEFAULTS.cacheDir,
    backbone: DOMAINS_DEFAULTS.backbone,
    model: { ...DOMAINS_DEFAULTS.model },
    training: { ...DOMAINS_DEFAULTS.training },
    embedThreads: v['embed-threads'] === undefined ? 0 : parseInteger('--embed-threads', v['embed-threads'], 1),
    logLevel,
  };
}
