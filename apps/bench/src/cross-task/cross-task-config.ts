// `bench cross-task`: its declared options (cross-task-options.ts) turned into CrossTaskOptions, with the checks a
// single declaration cannot make; everything below gets plain values.
import type { OptionValues } from '@fedtl/util/options';
import { DOMAINS_DEFAULTS, type DomainsOptions } from '../domains/domains-config';
import { dataAndOut, distinct } from '../option-checks';
import type { CROSS_TASK_OPTIONS } from './cross-task-options';

export { CROSS_TASK_DEFAULTS } from './cross-task-options';

/** The domains benchmark's options where they mean the same (data, rounds, validation, cache, model, training), plus: */
export interface CrossTaskOptions
  extends Pick<DomainsOptions, 'dataDir' | 'out' | 'domains' | 'rounds' | 'validate' | 'validationFraction' | 'cacheDir' | 'backbone' | 'model' | 'training' | 'embedThreads' | 'logLevel' | 'logFormat'> {
  /** One source federation and its target federations per seed; every number is averaged over them. */
  seeds: number[];
  /** Sentiment labels per client of the source federation. */
  sourceLabelsPerClient: number;
  /** Rating labels per client of the target federations, one pair (init-from, scratch) per budget; `rounds` is every federation's, source and target. */
  targetLabelsPerClient: number[];
}

/**
 * The suite's options from its resolved values.
 * @throws FedtlError FEDTL_ERR_BAD_CONFIG naming the flag: --data-dir or --out missing, a seed or budget given twice.
 */
export function crossTaskOptionsFrom(v: OptionValues<typeof CROSS_TASK_OPTIONS>): CrossTaskOptions {
  return {
    ...dataAndOut(v),
    seeds: distinct(v.seeds, '--seeds', 'distinct integers'),
    sourceLabelsPerClient: v.sourceLabelsPerClient,
    targetLabelsPerClient: distinct(v.labelsPerClient, '--labels-per-client', 'distinct integers'),
    rounds: v.rounds,
    validate: v.validate,
    validationFraction: v.validationFraction,
    cacheDir: v.cacheDir,
    backbone: v.backbone,
    model: { ...DOMAINS_DEFAULTS.model, adapterWidth: v.adapterWidth },
    training: { localEpochs: v.localEpochs, batchSize: v.batchSize, learningRate: v.learningRate, optimizer: v.optimizer },
    embedThreads: v.embedThreads ?? 0,
    logLevel: v.logLevel,
    logFormat: v.logFormat,
  };
}
