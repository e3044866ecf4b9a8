// `bench leakage` flags, parsed and validated once here; everything below gets plain values.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { configError, isLogLevel, parseInteger, type LogLevel } from '@fedtl/util';
import { DATASET_NAMES, type DatasetName } from './audit-data';

/** The workspace root (apps/bench/src/leakage → four levels up); the shared data lives beside it. */
const WORKSPACE_ROOT = resolve(__dirname, '../../../..');

/** Row groups: issue 8's rows (report.json/.md) and the rows with differential privacy on (dp-report.json/.md). */
export const SETTING_GROUPS = ['base', 'dp'] as const;
export type SettingGroup = (typeof SETTING_GROUPS)[number];

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
}

const FULL = {
  trials: 20,
  sizes: { amazon: [1, 50, 200], mail: [1, 6, 50] },
  dpSizes: [1, 50],
  sumOthers: [2, 9],
  trapExamples: 50,
  others: 1000,
  matching: { iterations: 100, trials: 8, maxDummies: 16, learningRate: 0.01 },
};
const QUICK = {
  trials: 3,
  sizes: { amazon: [1, 4], mail: [1, 4] },
  dpSizes: [1, 4],
  sumOthers: [2],
  trapExamples: 4,
  others: 100,
  matching: { iterations: 30, trials: 2, maxDummies: 4, learningRate: 0.01 },
};

export const LEAKAGE_USAGE = `Usage: npm run bench -- leakage [options]

Plays the coordinator: takes exactly what it receives from one client and recovers that client's feature
vectors with three attacks (analytic inversion of the first dense layer, gradient matching, the sign pattern
under Adam). Reports, per setting and attack, the cosine to the true vector and the top-1 rate at which the
recovered vector picks the true text out of a pool (its own + ${FULL.others} others). Writes report.json and report.md.

  --datasets a,b          ${DATASET_NAMES.join(', ')} (default both): the shared Amazon reviews, the demo's mail
  --settings a,b          row groups (default base): base, issue 8's rows (report.json, report.md); dp, the same
                          attacks under record-level DP-SGD and client-level DP-FedAvg at epsilon 8, 4, 2 of one
                          round (dp-report.json, dp-report.md)
  --data-dir DIR          the Amazon reviews (default ../shared/data/amazon-reviews from the workspace root)
  --out-dir DIR           where report.json and report.md go (default out/bench-leakage)
  --cache-dir DIR         feature cache, shared with the domains bench (default .fedtl-cache)
  --trials N              target clients per setting (default ${FULL.trials}; --quick ${QUICK.trials})
  --matching-trials N     of those, how many the gradient-matching attack runs on (default ${FULL.matching.trials}; it is the slow one)
  --matching-iterations N Adam steps of gradient matching (default ${FULL.matching.iterations})
  --others N              distractor texts per pool (default ${FULL.others})
  --seed N                seed of every draw, the runs' initial weights and the attacks (default 42, the coordinator's)
  --quick                 a small version (few trials, small pools, sizes 1 and 4, one sum) for tests
  --embed-threads N       embedding worker threads (default: one per core)
  --log-level LEVEL       debug|info|warn|error (default warn)
`;

const FLAGS = {
  datasets: { type: 'string' },
  settings: { type: 'string' },
  'data-dir': { type: 'string' },
  'out-dir': { type: 'string' },
  'cache-dir': { type: 'string' },
  trials: { type: 'string' },
  'matching-trials': { type: 'string' },
  'matching-iterations': { type: 'string' },
  others: { type: 'string' },
  seed: { type: 'string' },
  quick: { type: 'boolean' },
  'embed-threads': { type: 'string' },
  'log-level': { type: 'string' },
  help: { type: 'boolean' },
} as const;

/** Parses `bench leakage` flags (FEDTL_ERR_BAD_CONFIG naming the flag, expected and got), or 'help'. */
export function parseLeakageArgs(argv: string[]): LeakageOptions | 'help' {
  const { values: v } = parseArgs({ args: argv, options: FLAGS, strict: true, allowPositionals: false });
  if (v.help) return 'help';
  const base = v.quick ? QUICK : FULL;
  const datasets = (v.datasets ?? DATASET_NAMES.join(',')).split(',').map((s) => s.trim());
  for (const name of datasets) if (!(DATASET_NAMES as readonly string[]).includes(name)) throw configError('--datasets', `some of ${DATASET_NAMES.join(',')}`, v.datasets);
  const groups = (v.settings ?? 'base').split(',').map((s) => s.trim());
  for (const group of groups) if (!(SETTING_GROUPS as readonly string[]).includes(group)) throw configError('--settings', `some of ${SETTING_GROUPS.join(',')}`, v.settings);
  const logLevel = v['log-level'] ?? 'warn';
  if (!isLogLevel(logLevel)) throw configError('--log-level', 'debug|info|warn|error', logLevel);
  const trials = v.trials === undefined ? base.trials : parseInteger('--trials', v.trials, 1);
  return {
    datasets: DATASET_NAMES.filter((name) => datasets.includes(name)),
    settings: SETTING_GROUPS.filter((group) => groups.includes(group)),
    dataDir: resolve(v['data-dir'] ?? resolve(WORKSPACE_ROOT, '../shared/data/amazon-reviews')),
    outDir: resolve(v['out-dir'] ?? 'out/bench-leakage'),
    cacheDir: resolve(v['cache-dir'] ?? '.fedtl-cache'),
    trials,
    seed: v.seed === undefined ? 42 : parseInteger('--seed', v.seed, 0),
    sizes: { amazon: [...base.sizes.amazon], mail: [...base.sizes.mail] },
    dpSizes: [...base.dpSizes],
    sumOthers: [...base.sumOthers],
    trapExamples: base.trapExamples,
    others: v.others === undefined ? base.others : parseInteger('--others', v.others, 1),
    matching: {
      ...base.matching,
      iterations: v['matching-iterations'] === undefined ? base.matching.iterations : parseInteger('--matching-iterations', v['matching-iterations'], 1),
      trials: Math.min(trials, v['matching-trials'] === undefined ? base.matching.trials : parseInteger('--matching-trials', v['matching-trials'], 0)),
    },
    quick: v.quick ?? false,
    embedThreads: v['embed-threads'] === undefined ? 0 : parseInteger('--embed-threads', v['embed-threads'], 1),
    logLevel,
  };
}
