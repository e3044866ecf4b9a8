// `bench leakage`: its declared options (leakage-options.ts) turned into LeakageOptions, --quick's sizes filling in
// what was not given; everything below gets plain values.
import { resolve } from 'node:path';
import type { LogFormat, LogLevel } from '@fedtl/util';
import type { OptionValues } from '@fedtl/util/options';
import { subsetOf } from '../option-checks';
import { WORKSPACE_ROOT } from '../workspace';
import { DATASET_NAMES, FULL, QUICK, SETTING_GROUPS, type DatasetName, type LEAKAGE_OPTIONS, type SettingGroup } from './leakage-options';

export { DATASET_NAMES, SETTING_GROUPS, type DatasetName, type SettingGroup } from './leakage-options';

export interface LeakageOptions {
  datasets: DatasetName[];
  /** Which row groups to run, each written to its own report files. */
  settings: SettingGroup[];
  dataDir: string;
  outDir: string;
  cacheDir: string;
  trials: number;
  seed: number;
  /** Target client sizes of the default-plan rows, per dataset. */
  sizes: Record<DatasetName, number[]>;
  /** Target client sizes of the DP-SGD default-plan rows (every dataset). */
  dpSizes: number[];
  /** K of the "sum of K + 1 clients" rows. */
  sumOthers: number[];
  /** Examples (and batch size) of the imprint-trap rows. */
  trapExamples: number;
  /** Distractors in each pool. */
  others: number;
  matching: { iterations: number; trials: number; maxDummies: number; learningRate: number };
  quick: boolean;
  embedThreads: number;
  logLevel: LogLevel;
  logFormat: LogFormat;
}

/**
 * The suite's options from its resolved values, paths made absolute (relative ones from the working directory).
 * @throws FedtlError FEDTL_ERR_BAD_CONFIG naming --datasets or --settings for a name it does not know.
 */
export function leakageOptionsFrom(v: OptionValues<typeof LEAKAGE_OPTIONS>): LeakageOptions {
  const base = v.quick ? QUICK : FULL;
  const trials = v.trials ?? base.trials;
  return {
    datasets: subsetOf(v.datasets, DATASET_NAMES, '--datasets'),
    settings: subsetOf(v.settings, SETTING_GROUPS, '--settings'),
    dataDir: resolve(v.dataDir ?? resolve(WORKSPACE_ROOT, '../shared/data/amazon-reviews')),
    outDir: resolve(v.out),
    cacheDir: resolve(v.cacheDir),
    trials,
    seed: v.seed,
    sizes: { amazon: [...base.sizes.amazon], mail: [...base.sizes.mail] },
    dpSizes: [...base.dpSizes],
    sumOthers: [...base.sumOthers],
    trapExamples: base.trapExamples,
    others: v.others ?? base.others,
    matching: { ...base.matching, iterations: v.matchingIterations ?? base.matching.iterations, trials: Math.min(trials, v.matchingTrials ?? base.matching.trials) },
    quick: v.quick,
    embedThreads: v.embedThreads ?? 0,
    logLevel: v.logLevel,
    logFormat: v.logFormat,
  };
}
