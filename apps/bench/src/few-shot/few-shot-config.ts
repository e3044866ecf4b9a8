// `bench few-shot` flags, parsed and validated once here. The model and local training are the domains bench's
// (DOMAINS_DEFAULTS); what is new is the held-out-domain protocol and the adaptation.
import { parseArgs } from 'node:util';
import { PER_FEDAVG_DEFAULTS } from '@fedtl/strategies';
import { configError, isLogLevel, parseInteger, parsePositiveNumber, type LogLevel } from '@fedtl/util';
import { DOMAINS_DEFAULTS, type ModelOptions, type TrainingOptions } from '../domains/domains-config';
import { INITS, type InitName } from './few-shot-report';

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
  /** Per-FedAvg's inner step α (--meta-inner-learning-rate of its federations). */
  metaInnerLearningRate: number;
  /**
   * The adaptation's step sizes per initialisation. One each for a reported run; several are tried (every one
   * recorded) when choosing them on validation data.
   */
  adaptLearningRates: Record<InitName, number[]>;
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
  metaInnerLearningRate: PER_FEDAVG_DEFAULTS.metaInnerLearningRate,
  // Chosen on validation slices (docs/results/few-shot/README.md): per-fedavg adapts with its own α, as MAML does.
  adaptLearningRates: { 'per-fedavg': [PER_FEDAVG_DEFAULTS.metaInnerLearningRate], fedavg: [0.01], scratch: [1] } as Record<InitName, readonly number[]>,
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
  --meta-inner-learning-rate A
                             per-fedavg's α (default ${FEW_SHOT_DEFAULTS.metaInnerLearningRate})
  --adapt-lr-per-fedavg A    adaptation step size from the per-fedavg weights (default ${FEW_SHOT_DEFAULTS.adaptLearningRates['per-fedavg'].join(',')})
  --adapt-lr-fedavg A        … from the fedavg weights (default ${FEW_SHOT_DEFAULTS.adaptLearningRates.fedavg.join(',')})
  --adapt-lr-scratch A       … from a fresh adapter and head (default ${FEW_SHOT_DEFAULTS.adaptLearningRates.scratch.join(',')})
                             (each chosen on validation data; with --validate each may be a list, all tried)
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
  'meta-inner-learning-rate': { type: 'string' },
  'adapt-lr-per-fedavg': { type: 'string' },
  'adapt-lr-fedavg': { type: 'string' },
  'adapt-lr-scratch': { type: 'string' },
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

/** Positive step sizes; a list only when choosing them (--validate), so a reported run has one per init. */
function rateList(name: string, value: string | undefined, fallback: number[], validate: boolean): number[] {
  if (value === undefined) return fallback;
  const rates = value.split(',').map((s) => s.trim()).filter(Boolean).map((item) => parsePositiveNumber(name, item));
  if (rates.length === 0 || new Set(rates).size !== rates.length) throw configError(name, 'distinct positive numbers, comma-separated', value);
  if (rates.length > 1 && !validate) throw configError(name, 'one step size (lists are for choosing it with --validate)', value);
  return rates;
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
    steps: v.steps === undefined ? FEW_SHOT_DEFAULTS.steps : parseInteger('--steps', v.steps, 1, 100_000),
    metaInnerLearningRate: v['meta-inner-learning-rate'] === undefined ? FEW_SHOT_DEFAULTS.metaInnerLearningRate : parsePositiveNumber('--meta-inner-learning-rate', v['meta-inner-learning-rate']),
    adaptLearningRates: Object.fromEntries(INITS.map((init) => [init, rateList(`--adapt-lr-${init}`, v[`adapt-lr-${init}`], [...FEW_SHOT_DEFAULTS.adaptLearningRates[init]], v.validate ?? false)])) as Record<InitName, number[]>,
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
