// `bench cross-task` flags, parsed and validated once here; everything below gets plain values. The model and
// training default to the domains benchmark's (DOMAINS_DEFAULTS, chosen on its validation slice), so the source
// federation is exactly that benchmark's fedavg row at the source budget.
import { parseArgs } from 'node:util';
import { configError, isLogLevel, parseInteger, parseIntegerList, parseOneOf, parsePositiveNumber } from '@fedtl/util';
import { DOMAINS_DEFAULTS, type DomainsOptions } from '../domains/domains-config';

/** The domains benchmark's options where they mean the same (data, rounds, validation, cache, model, training), plus: */
export interface CrossTaskOptions
  extends Pick<DomainsOptions, 'dataDir' | 'out' | 'domains' | 'rounds' | 'validate' | 'validationFraction' | 'cacheDir' | 'backbone' | 'model' | 'training' | 'embedThreads' | 'logLevel'> {
  /** One source federation and its target federations per seed; every number is averaged over them. */
  seeds: number[];
  /** Sentiment labels per client of the source federation. */
  sourceLabelsPerClient: number;
  /** Rating labels per client of the target federations, one pair (init-from, scratch) per budget; `rounds` is every federation's, source and target. */
  targetLabelsPerClient: number[];
}

export const CROSS_TASK_DEFAULTS = {
  seeds: [1, 2, 3, 4, 5],
  sourceLabelsPerClient: 200,
  targetLabelsPerClient: [20, 50, 200],
  rounds: DOMAINS_DEFAULTS.rounds,
  cacheDir: DOMAINS_DEFAULTS.cacheDir,
  validationFraction: DOMAINS_DEFAULTS.validationFraction,
  backbone: DOMAINS_DEFAULTS.backbone,
  model: DOMAINS_DEFAULTS.model,
  training: DOMAINS_DEFAULTS.training,
} as const;

export const CROSS_TASK_USAGE = `Usage: npm run bench -- cross-task --data-dir DIR --out OUT [options]

Per seed: a source federation (one client per domain) learns binary sentiment (the files' label field); then per
target budget two federations of the same organisations learn the star rating (the files' rating field, labels
"1","2","4","5"), one started with the coordinator's --init-from the source run, one from scratch.

  --data-dir DIR                 folder of DOMAIN.train.jsonl and DOMAIN.test.jsonl (fields id, text, label, rating)
  --out OUT                      where report.json, report.md and runs/ go
  --domains a,b,c                domains to use, one client each (default: all in DIR)
  --seeds 1,2,3                  one repetition per seed (default ${CROSS_TASK_DEFAULTS.seeds.join(',')})
  --source-labels-per-client N   sentiment labels per client of the source federation (default ${CROSS_TASK_DEFAULTS.sourceLabelsPerClient})
  --labels-per-client a,b        rating labels per client of the target federations (default ${CROSS_TASK_DEFAULTS.targetLabelsPerClient.join(',')})
  --rounds R                     rounds of every federation (default ${CROSS_TASK_DEFAULTS.rounds})
  --validate                     hold out --validation-fraction of each training file and report on it, not on the
                                 test files: the mode for tuning
  --validation-fraction F        default ${CROSS_TASK_DEFAULTS.validationFraction}
  --cache-dir DIR                feature cache shared by the bench and its clients (default ${CROSS_TASK_DEFAULTS.cacheDir})
  --backbone SPEC                default ${CROSS_TASK_DEFAULTS.backbone}
  --adapter-width N              default ${CROSS_TASK_DEFAULTS.model.adapterWidth} (the head is the domains benchmark's: ${CROSS_TASK_DEFAULTS.model.head})
  --local-epochs N               epochs per round on each client (default ${CROSS_TASK_DEFAULTS.training.localEpochs})
  --batch-size N                 default ${CROSS_TASK_DEFAULTS.training.batchSize}
  --learning-rate X              default ${CROSS_TASK_DEFAULTS.training.learningRate}
  --optimizer sgd|adam           default ${CROSS_TASK_DEFAULTS.training.optimizer}
  --embed-threads N              embedding worker threads (default: one per core)
  --log-level LEVEL              debug|info|warn|error (default info)
`;

const FLAGS = {
  'data-dir': { type: 'string' },
  out: { type: 'string' },
  domains: { type: 'string' },
  seeds: { type: 'string' },
  'source-labels-per-client': { type: 'string' },
  'labels-per-client': { type: 'string' },
  rounds: { type: 'string' },
  validate: { type: 'boolean' },
  'validation-fraction': { type: 'string' },
  'cache-dir': { type: 'string' },
  backbone: { type: 'string' },
  'adapter-width': { type: 'string' },
  'local-epochs': { type: 'string' },
  'batch-size': { type: 'string' },
  'learning-rate': { type: 'string' },
  optimizer: { type: 'string' },
  'embed-threads': { type: 'string' },
  'log-level': { type: 'string' },
  help: { type: 'boolean' },
} as const;

/** A list flag's distinct values, in the given order; FEDTL_ERR_BAD_CONFIG naming the flag on a repeat. */
function distinct(name: string, values: number[], raw: string | undefined): number[] {
  if (new Set(values).size !== values.length) throw configError(name, 'distinct integers', raw);
  return values;
}

/**
 * Parses `bench cross-task`'s argv (after the suite name). Returns 'help' for --help; throws FedtlError
 * FEDTL_ERR_BAD_CONFIG naming the flag, what it expects and what came, for any bad value.
 */
export function parseCrossTaskArgs(argv: string[]): CrossTaskOptions | 'help' {
  const { values: v } = parseArgs({ args: argv, options: FLAGS, strict: true, allowPositionals: false });
  if (v.help) return 'help';
  if (!v['data-dir']) throw configError('--data-dir', 'a folder of DOMAIN.train.jsonl / DOMAIN.test.jsonl files', v['data-dir']);
  if (!v.out) throw configError('--out', 'an output folder', v.out);
  const integer = (flag: keyof typeof FLAGS, fallback: number, min: number): number => {
    const raw = v[flag];
    return typeof raw === 'string' ? parseInteger(`--${flag}`, raw, min) : fallback;
  };
  const validationFraction = v['validation-fraction'] === undefined ? CROSS_TASK_DEFAULTS.validationFraction : Number(v['validation-fraction']);
  if (!(validationFraction > 0 && validationFraction < 1)) throw configError('--validation-fraction', 'a number in (0, 1)', v['validation-fraction']);
  const logLevel = v['log-level'] ?? 'info';
  if (!isLogLevel(logLevel)) throw configError('--log-level', 'debug|info|warn|error', logLevel);
  const defaults = CROSS_TASK_DEFAULTS;
  return {
    dataDir: v['data-dir'],
    out: v.out,
    domains: v.domains === undefined ? [] : v.domains.split(',').map((s) => s.trim()).filter(Boolean),
    seeds: v.seeds === undefined ? [...defaults.seeds] : distinct('--seeds', parseIntegerList('--seeds', v.seeds, 0), v.seeds),
    sourceLabelsPerClient: integer('source-labels-per-client', defaults.sourceLabelsPerClient, 2),
    targetLabelsPerClient:
      v['labels-per-client'] === undefined
        ? [...defaults.targetLabelsPerClient]
        : distinct('--labels-per-client', parseIntegerList('--labels-per-client', v['labels-per-client'], 4), v['labels-per-client']),
    rounds: integer('rounds', defaults.rounds, 1),
    validate: v.validate ?? false,
    validationFraction,
    cacheDir: v['cache-dir'] ?? defaults.cacheDir,
    backbone: v.backbone ?? defaults.backbone,
    model: { ...defaults.model, adapterWidth: integer('adapter-width', defaults.model.adapterWidth, 1) },
    training: {
      localEpochs: integer('local-epochs', defaults.training.localEpochs, 1),
      batchSize: integer('batch-size', defaults.training.batchSize, 1),
      learningRate: v['learning-rate'] === undefined ? defaults.training.learningRate : parsePositiveNumber('--learning-rate', v['learning-rate']),
      optimizer: parseOneOf('--optimizer', v.optimizer ?? defaults.training.optimizer, ['sgd', 'adam'] as const),
    },
    embedThreads: integer('embed-threads', 0, 1),
    logLevel,
  };
}
