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
}

export interface FewShotCell {
  init: InitName;
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
  adaptLearningRate: number;
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

/** Per seed, the mean over new domains of the records matching `init` and `shots`. */
function perSeedMeans(records: readonly AdaptationRecord[], init: InitName, shots: number, seeds: readonly number[]): number[] {
  return seeds.map((seed) => {
    const values = records.filter((r) => r.seed === seed && r.init === init && r.shots === shots).map((r) => r.accuracy);
    if (values.length === 0) throw new Error(`few-shot report: no record for seed ${seed}, ${init}, k = ${shots}`);
    return values.reduce((sum, v) => sum + v, 0) / values.length;
  });
}

/** Every (initialisation, k) cell, k = 0 (no adaptation) first. @throws Error when a seed has no record for a cell. */
export function summarize(records: readonly AdaptationRecord[], seeds: readonly number[], shots: readonly number[], domains: readonly string[]): FewShotCell[] {
  const ks = [0, ...shots];
  return INITS.flatMap((init) =>
    ks.map((k) => ({
      init,
      shots: k,
      accuracy: spreadOf(perSeedMeans(records, init, k, seeds)),
      perDomain: Object.fromEntries(
        domains.map((domain) => {
          const values = records.filter((r) => r.init === init && r.shots === k && r.domain === domain).map((r) => r.accuracy);
          return [domain, values.reduce((sum, v) => sum + v, 0) / values.length];
        }),
      ),
    })),
  );
}

/** a − b paired by seed, for every k. */
export function pairedDifferences(records: readonly AdaptationRecord[], seeds: readonly number[], shots: readonly number[], pairs: ReadonlyArray<[InitName, InitName]>): PairedDifference[] {
  return pairs.flatMap(([a, b]) =>
    shots.map((k) => {
      const left = perSeedMeans(records, a, k, seeds);
      const right = perSeedMeans(records, b, k, seeds);
      return { a, b, shots: k, difference: spreadOf(left.map((value, i) => value - right[i])) };
    }),
  );
}

const points = (spread: Spread) => `${spread.mean >= 0 ? '+' : ''}${(100 * spread.mean).toFixed(1)} ± ${(100 * spread.std).toFixed(1)}`;

export function fewShotMarkdown(report: FewShotReport): string {
  const ks = [0, ...report.shots];
  const cell = (init: InitName, k: number) => report.cells.find((c) => c.init === init && c.shots === k);
  const lines = [
    '# Few-shot new domain: meta-learned vs FedAvg vs fresh initialisation',
    '',
    `${report.evaluatedOn === 'test' ? 'Test' : 'Validation'} accuracy (%) of the new domain after ${report.steps} full-batch SGD steps of ${report.adaptLearningRate} on k labelled examples; mean over the ${report.domains.length} domains (each new in turn, the other ${report.domains.length - 1} federated with ${report.labelsPerClient} labels per client for ${report.rounds} rounds), then mean ± sample std over ${report.seeds.length} seeds (${report.seeds.join(', ')}). k = 0: the initialisation as it is, not adapted.`,
    '',
    `| initialisation | ${ks.map((k) => `k = ${k}`).join(' | ')} |`,
    `|---|${ks.map(() => '---:').join('|')}|`,
    ...INITS.map((init) => `| ${INIT_LABELS[init]} | ${ks.map((k) => { const c = cell(init, k); return c ? formatPercentSpread(c.accuracy) : '–'; }).join(' | ')} |`),
    '',
    'Paired differences (same seed, new domain, examples and steps), in points:',
    '',
    `| comparison | ${report.shots.map((k) => `k = ${k}`).join(' | ')} |`,
    `|---|${report.shots.map(() => '---:').join('|')}|`,
    ...uniquePairs(report.comparisons).map(([a, b]) => `| ${a} − ${b} | ${report.shots.map((k) => { const d = report.comparisons.find((c) => c.a === a && c.b === b && c.shots === k); return d ? points(d.difference) : '–'; }).join(' | ')} |`),
    '',
    'Per new domain (mean over seeds), after adapting:',
    '',
    `| initialisation | k | ${report.domains.join(' | ')} |`,
    `|---|---:|${report.domains.map(() => '---:').join('|')}|`,
    ...report.cells.filter((c) => c.shots > 0).map((c) => `| ${c.init} | ${c.shots} | ${report.domains.map((d) => (100 * c.perDomain[d]).toFixed(1)).join(' | ')} |`),
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
