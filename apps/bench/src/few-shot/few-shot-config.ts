// `bench few-shot`: its declared options (few-shot-options.ts) turned into FewShotOptions, with the checks a single
// declaration cannot make. The model and local training are the domains bench's (DOMAINS_DEFAULTS).
import { configError, type LogFormat, type LogLevel } from '@fedtl/util';
import type { OptionValues } from '@fedtl/util/options';
import { DOMAINS_DEFAULTS, type ModelOptions, type TrainingOptions } from '../domains/domains-config';
import { dataAndOut, distinct } from '../option-checks';
import { ADAPT_LR_KEYS, type FEW_SHOT_OPTIONS } from './few-shot-options';
import { INITS, type InitName } from './few-shot-report';

export { FEW_SHOT_DEFAULTS } from './few-shot-options';

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
  logFormat: LogFormat;
}

/** Positive step sizes, distinct; a list only when choosing them (--validate), so a reported run has one per init. */
function rateList(flag: string, items: readonly number[], validate: boolean): number[] {
  const rates = distinct(items, flag, 'distinct numbers > 0');
  if (rates.length > 1 && !validate) throw configError(flag, 'one step size (lists are for choosing it with --validate)', items.join(','));
  return rates;
}

/**
 * The suite's options from its resolved values.
 * @throws FedtlError FEDTL_ERR_BAD_CONFIG naming the flag: --data-dir or --out missing, a seed or k given twice, a
 *   step size that is not a number > 0, several step sizes without --validate.
 */
export function fewShotOptionsFrom(v: OptionValues<typeof FEW_SHOT_OPTIONS>): FewShotOptions {
  return {
    ...dataAndOut(v),
    seeds: distinct(v.seeds, '--seeds', 'distinct integers'),
    shots: distinct(v.shots, '--shots', 'distinct integers'),
    labelsPerClient: v.labelsPerClient,
    rounds: v.rounds,
    steps: v.steps,
    metaInnerLearningRate: v.metaInnerLearningRate,
    adaptLearningRates: Object.fromEntries(INITS.map((init) => [init, rateList(`--adapt-lr-${init}`, v[ADAPT_LR_KEYS[init]], v.validate)])) as Record<InitName, number[]>,
    validate: v.validate,
    validationFraction: v.validationFraction,
    cacheDir: v.cacheDir,
    backbone: DOMAINS_DEFAULTS.backbone,
    model: { ...DOMAINS_DEFAULTS.model },
    training: { ...DOMAINS_DEFAULTS.training },
    embedThreads: v.embedThreads ?? 0,
    logLevel: v.logLevel,
    logFormat: v.logFormat,
  };
}
