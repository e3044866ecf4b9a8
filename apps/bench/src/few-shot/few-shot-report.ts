// The few-shot benchmark's figures: every adaptation recorded, summarised per initialisation and k as the mean
// over new domains, then mean ± sample std over seeds; and the issue's two comparisons as paired differences
// (same seed, same new domain, same k examples, same steps).
import type { MachineInfo } from '../machine';
import { describeMachine } from '../machine';
import { formatPercentSpread, spreadOf, type Spread } from '../seed-spread';

/** Where a new client's adaptation starts. */
export const INITS = ['per-fedavg', 'fedavg', 'scratch'] as const;
export type InitName = (typeof INITS)[number];

export const INIT_LABELS: Record<InitName, string> = {
  'per-fedavg': '(a) meta-learned (Per-FedAvg)',
  fedavg: '(b) FedAvg',
  scratch: '(c) fresh adapter and head',
};

/** One new domain's accuracy from one initialisation after adapting on k examples (k = 0: not adapted). */
export interface AdaptationRecord {
  seed: number;
  domain: string;
  init: InitName;
  shots: number;
  /** The adaptation's step size; 0 with k = 0. */
  learningRate: number;
  /** SHA-256 of the weights the adaptation started from (FederationRecord.weightsSha256 for a federated start). */
  startSha256: string;
  accuracy: number;
  macroF1: number;
}

export interface FederationRecord {
  seed: number;
  newDomain: string;
  strategy: 'fedavg' | 'per-fedavg';
  seconds: number;
  /** Mean protocol bytes up per round, summed over clients. */
  bytesUp: number;
  /** SHA-256 of the final global weights (their float32 bytes in order): which runs produced the same model. */
  weightsSha256: string;
}

export interface FewShotCell {
  init: InitName;
  /** 0 for k = 0 (not adapted). */
  learningRate: number;
  shots: number;
  /** Over seeds, of the mean over new domains. */
  accuracy: Spread;
  /** Mean over seeds, per new domain. */
  perDomain: Record<string, number>;
}

/** a − b per seed (each the mean over new domains), over seeds. */
export interface PairedDifference {
  a: InitName;
  b: InitName;
  shots: number;
  difference: Spread;
}

export interface FewShotReport {
  suite: 'few-shot';
  evaluatedOn: 'test' | 'validation';
  domains: string[];
  seeds: number[];
  shots: number[];
  labelsPerClient: number;
  rounds: number;
  steps: number;
  metaInnerLearningRate: number;
  /** Per initialisation, the step size the comparisons use: the only one tried, or the best on average over k. */
  chosenLearningRates: Record<InitName, number>;
  hyperparameters: Record<string, unknown>;
  backbone: { id: string; hash: string };
  backend: string;
  machine: MachineInfo;
  seconds: number;
  command: string;
  cells: FewShotCell[];
  comparisons: PairedDifference[];
  federations: FederationRecord[];
  records: AdaptationRecord[];
}

/** Per seed, the mean over new domains of the records matching `init`, `learningRate` and `shots`. */
function perSeedMeans(records: readonly AdaptationRecord[], init: InitName, learningRate: number, shots: number, seeds: readonly number[]): number[] {
  return seeds.map((seed) => {
    const values = records.filter((r) => r.seed === seed && r.init === init && r.learningRate === learningRate && r.shots === shots).map((r) => r.accuracy);
    if (values.length === 0) throw new Error(`few-shot report: no record for seed ${seed}, ${init}, step size ${learningRate}, k = ${shots}`);
    return values.reduce((sum, v) => sum + v, 0) / values.length;
  });
}

/** The step sizes `init` was adapted with, ascending. */
function ratesOf(records: readonly AdaptationRecord[], init: InitName): number[] {
  return [...new Set(records.filter((r) => r.init === init && r.shots > 0).map((r) => r.learningRate))].sort((a, b) => a - b);
}

/**
 * Every (initialisation, step size, k) cell: per init, k = 0 (not adapted) first, then each step size's ks.
 * @throws Error when a seed has no record for a cell.
 */
export function summarize(records: readonly AdaptationRecord[], seeds: readonly number[], shots: readonly number[], domains: readonly string[]): FewShotCell[] {
  const cellOf = (init: InitName, learningRate: number, k: number): FewShotCell => ({
    init,
    learningRate,
    shots: k,
    accuracy: spreadOf(perSeedMeans(records, init, learningRate, k, seeds)),
    perDomain: Object.fromEntries(
      domains.map((domain) => {
        const values = records.filter((r) => r.init === init && r.learningRate === learningRate && r.shots === k && r.domain === domain).map((r) => r.accuracy);
        return [domain, values.reduce((sum, v) => sum + v, 0) / values.length];
      }),
    ),
  });
  return INITS.flatMap((init) => [cellOf(init, 0, 0), ...ratesOf(records, init).flatMap((rate) => shots.map((k) => cellOf(init, rate, k)))]);
}

/** Per initialisation, the step size with the best mean accuracy over every k > 0 (ties: the smaller). */
export function chooseLearningRates(cells: readonly FewShotCell[]): Record<InitName, number> {
  return Object.fromEntries(
    INITS.map((init) => {
      const byRate = new Map<number, number[]>();
      for (const cell of cells.filter((c) => c.init === init && c.shots > 0)) byRate.set(cell.learningRate, [...(byRate.get(cell.learningRate) ?? []), cell.accuracy.mean]);
      const scored = [...byRate].map(([rate, means]) => ({ rate, score: means.reduce((a, b) => a + b, 0) / means.length }));
      scored.sort((a, b) => b.score - a.score || a.rate - b.rate);
      return [init, scored[0]?.rate ?? 0];
    }),
  ) as Record<InitName, number>;
}

/** a − b paired by seed, for every k, each init adapted with its chosen step size. */
export function pairedDifferences(records: readonly AdaptationRecord[], seeds: readonly number[], shots: readonly number[], pairs: ReadonlyArray<[InitName, InitName]>, rates: Record<InitName, number>): PairedDifference[] {
  return pairs.flatMap(([a, b]) =>
    shots.map((k) => {
      const left = perSeedMeans(records, a, rates[a], k, seeds);
      const right = perSeedMeans(records, b, rates[b], k, seeds);
      return { a, b, shots: k, difference: spreadOf(left.map((value, i) => value - right[i])) };
    }),
  );
}

const points = (spread: Spread) => `${spread.mean >= 0 ? '+' : ''}${(100 * spread.mean).toFixed(1)} ± ${(100 * spread.std).toFixed(1)}`;

export function fewShotMarkdown(report: FewShotReport): string {
  const ks = [0, ...report.shots];
  const find = (init: InitName, rate: number, k: number) => report.cells.find((c) => c.init === init && c.shots === k && c.learningRate === (k === 0 ? 0 : rate));
  const rows = INITS.flatMap((init) => [...new Set(report.cells.filter((c) => c.init === init && c.shots > 0).map((c) => c.learningRate))].map((rate) => ({ init, rate })));
  const several = rows.length > INITS.length;
  const lines = [
    '# Few-shot new domain: meta-learned vs FedAvg vs fresh initialisation',
    '',
    `${report.evaluatedOn === 'test' ? 'Test' : 'Validation'} accuracy (%) of the new domain after ${report.steps} full-batch SGD steps on k labelled examples (step size per initialisation in the first column); mean over the ${report.domains.length} domains (each new in turn, the other ${report.domains.length - 1} federated with ${report.labelsPerClient} labels per client for ${report.rounds} rounds; per-fedavg with α = ${report.metaInnerLearningRate}), then mean ± sample std over ${report.seeds.length} seeds (${report.seeds.join(', ')}). k = 0: the initialisation as it is, not adapted.`,
    '',
    `| initialisation | step size | ${ks.map((k) => `k = ${k}`).join(' | ')} |`,
    `|---|---:|${ks.map(() => '---:').join('|')}|`,
    ...rows.map(({ init, rate }) => {
      const chosen = several && report.chosenLearningRates[init] === rate ? ' (chosen)' : '';
      return `| ${INIT_LABELS[init]} | ${rate}${chosen} | ${ks.map((k) => { const c = find(init, rate, k); return c ? formatPercentSpread(c.accuracy) : '–'; }).join(' | ')} |`;
    }),
    '',
    `Paired differences (same seed, new domain, examples and steps; step sizes ${INITS.map((init) => `${init} ${report.chosenLearningRates[init]}`).join(', ')}), in points:`,
    '',
    `| comparison | ${report.shots.map((k) => `k = ${k}`).join(' | ')} |`,
    `|---|${report.shots.map(() => '---:').join('|')}|`,
    ...uniquePairs(report.comparisons).map(([a, b]) => `| ${a} − ${b} | ${report.shots.map((k) => { const d = report.comparisons.find((c) => c.a === a && c.b === b && c.shots === k); return d ? points(d.difference) : '–'; }).join(' | ')} |`),
    '',
    'Per new domain (mean over seeds), after adapting with the chosen step size:',
    '',
    `| initialisation | k | ${report.domains.join(' | ')} |`,
    `|---|---:|${report.domains.map(() => '---:').join('|')}|`,
    ...report.cells.filter((c) => c.shots > 0 && c.learningRate === report.chosenLearningRates[c.init]).map((c) => `| ${c.init} | ${c.shots} | ${report.domains.map((d) => (100 * c.perDomain[d]).toFixed(1)).join(' | ')} |`),
    '',
    `- Federations: ${report.federations.length} (${report.seeds.length} seeds × ${report.domains.length} new domains × fedavg and per-fedavg), ${(report.federations.reduce((s, f) => s + f.seconds, 0) / report.federations.length).toFixed(1)} s each on average; bytes up per round ${formatMiB(report.federations.reduce((s, f) => s + f.bytesUp, 0) / report.federations.length)}.`,
    `- Model and local training: ${JSON.stringify(report.hyperparameters)}.`,
    `- Backbone ${report.backbone.id} (${report.backbone.hash.slice(0, 12)}), backend ${report.backend}.`,
    `- Wall time ${report.seconds.toFixed(0)} s on ${describeMachine(report.machine)}.`,
    `- Command: \`${report.command}\``,
    '',
  ];
  return lines.join('\n');
}

function uniquePairs(comparisons: readonly PairedDifference[]): Array<[InitName, InitName]> {
  const seen = new Map<string, [InitName, InitName]>();
  for (const c of comparisons) seen.set(`${c.a}|${c.b}`, [c.a, c.b]);
  return [...seen.values()];
}

function formatMiB(bytes: number): string {
  return bytes >= 2 ** 20 ? `${(bytes / 2 ** 20).toFixed(2)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
}
