// report.md of `bench privacy`: the record-level table (ε × labels × strategy), the client-level table, the
// overhead table (ratios against plain FedAvg next to the absolute figures), then the settings, the guarantees'
// units and assumptions, and where and how it ran.
import { provenanceLines } from '../domains/markdown-report';
import { formatPercentSpread } from '../seed-spread';
import { formatEpsilon } from './privacy-config';
import type { OverheadRow, PrivacyReport, PrivacyRow } from './privacy-report';

const pct = (fraction: number) => (Number.isFinite(fraction) ? (100 * fraction).toFixed(1) : '–');
const kib = (bytes: number) => `${(bytes / 2 ** 10).toFixed(1)} KiB`;
const noise = (value: number | null) => (value === null ? '–' : value.toFixed(3));
const spent = (value: number | null) => (value === null ? '–' : value.toFixed(2));
const formatDelta = (delta: number) => delta.toExponential().replace('e-', 'e−');
const ratio = (value: number, base: number) => (base > 0 && Number.isFinite(value / base) ? `${(value / base).toFixed(2)}×` : '–');

const meanHeader = (report: PrivacyReport) => (report.seeds.length > 1 ? '**mean ± std**' : '**mean**');

function rowCells(report: PrivacyReport, row: PrivacyRow): string {
  const cells = report.domains.map((d) => pct(row.perDomain[d]?.mean ?? NaN));
  // One seed has no spread to show: "± 0.0" would read as a measured one.
  const mean = row.mean.n > 1 ? formatPercentSpread(row.mean) : pct(row.mean.mean);
  return `${cells.join(' | ')} | **${mean}** | ${spent(row.spentEpsilon)} | ${row.seconds.toFixed(1)}`;
}

/** The record-level table: one line per labels × strategy × ε. */
export function recordLevelTable(report: PrivacyReport): string {
  const header = `| labels / client | strategy | target ε | σ | q | steps | ${report.domains.join(' | ')} | ${meanHeader(report)} | ε spent | s / run |`;
  const rule = `|---:|---|---:|---:|---:|---:|${report.domains.map(() => '---:').join('|')}|---:|---:|---:|`;
  const lines = report.recordLevel.map(
    (row) =>
      `| ${row.labelsPerClient} | ${row.strategy} | ${formatEpsilon(row.epsilon)} | ${noise(row.noiseMultiplier)} | ${row.samplingRate ?? '–'} | ${row.steps ?? '–'} | ${rowCells(report, row)} |`,
  );
  return [header, rule, ...lines].join('\n');
}

/** The client-level table: one line per strategy × ε. */
export function clientLevelTable(report: PrivacyReport): string {
  const rows = report.clientLevel?.rows ?? [];
  const header = `| strategy | target ε | z | ${report.domains.join(' | ')} | ${meanHeader(report)} | ε spent | s / run |`;
  const rule = `|---|---:|---:|${report.domains.map(() => '---:').join('|')}|---:|---:|---:|`;
  const lines = rows.map((row) => `| ${row.strategy} | ${formatEpsilon(row.epsilon)} | ${noise(row.noiseMultiplier)} | ${rowCells(report, row)} |`);
  return [header, rule, ...lines].join('\n');
}

const OVERHEAD_LABELS: Record<OverheadRow['name'], string> = {
  fedavg: 'FedAvg, no DP',
  'record-dp': 'record-level DP-SGD',
  'client-dp': 'client-level DP-FedAvg',
  'client-dp-secagg': 'client-level DP-FedAvg + secure aggregation',
};

/** The overhead table: seconds and bytes per round, each with its ratio to plain FedAvg. */
export function overheadTable(report: PrivacyReport): string {
  const rows = report.overhead?.rows ?? [];
  const base = rows.find((r) => r.name === 'fedavg');
  const header = '| run | s / round | vs FedAvg | up / round | vs FedAvg | down / round | vs FedAvg | mean acc. | σ or z | ε spent |';
  const rule = '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|';
  const lines = rows.map(
    (row) =>
      `| ${OVERHEAD_LABELS[row.name]} | ${row.secondsPerRound.toFixed(2)} | ${ratio(row.secondsPerRound, base?.secondsPerRound ?? NaN)} | ` +
      `${kib(row.bytesUpPerRound)} | ${ratio(row.bytesUpPerRound, base?.bytesUpPerRound ?? NaN)} | ${kib(row.bytesDownPerRound)} | ${ratio(row.bytesDownPerRound, base?.bytesDownPerRound ?? NaN)} | ` +
      `${pct(row.mean)} | ${noise(row.noiseMultiplier)} | ${spent(row.spentEpsilon)} |`,
  );
  return [header, rule, ...lines].join('\n');
}

function clientLevelSection(report: PrivacyReport): string[] {
  const c = report.clientLevel;
  if (!c) return [];
  const s = c.settings;
  return [
    '## Client-level DP (DP-FedAvg), simulated',
    '',
    `The ${report.domains.length} domains' training examples (${s.labelsPerDomain} per domain, pooled) split into ${s.clients} clients by a Dirichlet label split ` +
      `(Hsu, Qi, Brown 2019; per label, proportions over the clients ~ Dir(${s.alpha}); every client non-empty; ${c.clientExamples.min}–${c.clientExamples.max} examples, median ${c.clientExamples.median}). ` +
      `Each of ${s.rounds} rounds, every client trains with probability q = ${s.samplingRate} (Poisson sampling, ≈ ${Math.round(s.samplingRate * s.clients)} a round); ` +
      `updates clipped to S = ${s.clipNorm}, noise N(0, z²S²) on their sum, divided by q·N = ${s.samplingRate * s.clients}, then the strategy's server step. ` +
      `z is calibrated for ${s.rounds} steps at q; ε spent is the PrivacyLedger's. Test accuracy (%) on each domain's test set. ` +
      'The unit of privacy is one client; the ε (amplified by sampling) holds against whoever sees the models but not which clients each round sampled; ' +
      'against the coordinator, which draws the sample, a client has the ε of the rounds it took part in at q = 1 (README, Privacy).',
    '',
    '**Simulated in the bench process, no sockets:** a hundred client processes do not fit on a two-core machine. The simulation runs the code ' +
      "the processes run: each sampled client trains with @fedtl/model's `trainLocally` (the client's training) and each round is aggregated by " +
      "@fedtl/strategies' `DpFedAvgAggregator` around the strategy's own aggregator, as the coordinator does in the clear; the socket path of DP-FedAvg " +
      "(clients clipping and, under secure aggregation, noising their own updates) is covered by the coordinator's and client's e2e tests. " +
      'Client sampling here is seeded (the coordinator draws it from node:crypto); the noise comes from node:crypto in both.',
    '',
    clientLevelTable(report),
    '',
    `Median L2 norm of an unclipped update (ε = ∞ row): ${c.medianUpdateNorm === null ? 'not measured (no ε = ∞ row)' : c.medianUpdateNorm.toFixed(3)}; S = ${s.clipNorm}.`,
    '',
  ];
}

function overheadSection(report: PrivacyReport): string[] {
  const o = report.overhead;
  if (!o) return [];
  return [
    '## Overhead against plain FedAvg',
    '',
    `Real federations, ${report.domains.length} clients, ${o.labelsPerClient} labels per client, ${report.rounds} rounds, seed ${o.seed}, FedAvg, run one after another in this invocation. ` +
      `DP runs at target ε = ${o.epsilon} (δ = ${formatDelta(report.delta)}); the client-level runs sample every client every round (q = ${o.clientSamplingRate}: ${report.domains.length} clients are too few to sample), ` +
      'so z is calibrated for q = 1, and their accuracy says little. Seconds per round are the coordinator\'s (plan to aggregate, evaluation included), the mean over the run\'s rounds; ' +
      'one run each on a machine shared with other work, so a ratio is good to a few tenths. Bytes are protocol payloads per round, summed over clients.',
    '',
    overheadTable(report),
    '',
  ];
}

/** The whole report.md. */
export function privacyMarkdown(report: PrivacyReport): string {
  const h = report.hyperparameters;
  return [
    '# Differential privacy: what each guarantee costs',
    '',
    `Test accuracy (%) after ${report.rounds} rounds, mean ± sample standard deviation over seeds (${report.seeds.join(', ') || 'none yet'}); per-domain cells are means over seeds. ` +
      `δ = ${formatDelta(report.delta)} for every guarantee. ε = ∞ is the row without DP.`,
    '',
    '## Record-level DP (DP-SGD on every client), real federations',
    '',
    `Every row is a real federation: the coordinator and one client process per domain over Socket.IO. The unit of privacy is one training example of one client. ` +
      `Each client trains by DP-SGD (Poisson sampling at q = batch / n, each example's gradient clipped to C = ${h.recordClipNorm}, noise N(0, σ²C²), ` +
      `${h.localEpochs} × round(1/q) steps a round). σ is calibrated once for the whole run with noiseMultiplierFor (q, steps = rounds × epochs × round(1/q)); ` +
      "the run's budget is set to the target, so the coordinator's ledger checks it, and **ε spent** is what the run's summary.json reports (the largest over its clients).",
    '',
    recordLevelTable(report),
    '',
    ...clientLevelSection(report),
    ...overheadSection(report),
    '## Leakage with DP',
    '',
    `The leakage audit of issue 8 re-run with DP on: see [${report.leakageReport}](${report.leakageReport.replace(/^docs\/results\//, '../')}).`,
    '',
    '## Settings',
    '',
    `- Model: adapter width ${h.adapterWidth}, ${h.head} head; ${h.optimizer} lr ${h.learningRate}, batch ${h.batchSize}, ${h.localEpochs} local epoch(s) per round (the domains bench's defaults, ` +
      'not tuned for DP: DP-SGD usually prefers larger batches and learning rates).',
    `- fedadam: server lr ${h.fedadam.serverLearningRate}, β1 ${h.fedadam.beta1}, β2 ${h.fedadam.beta2}, τ ${h.fedadam.tau} (the best server optimiser of docs/results/strategies).`,
    `- C = ${h.recordClipNorm}, not tuned: the bound of Abadi et al.'s and Opacus's examples; σ·C sets the noise's scale whatever C is, and a C near the typical per-example gradient norm ` +
      'bounds outliers without shrinking every gradient.',
    `- Training examples per client (record-level, first budget): ${report.domains.map((d) => `${d} ${report.trainExamples[d]}`).join(', ')}; evaluated on ${report.domains.map((d) => `${d} ${report.evaluationExamples[d]}`).join(', ')}.`,
    '- Noise and Poisson sampling come from node:crypto, not from the seed: a DP row does not repeat to the digit.',
    ...provenanceLines(report),
    '',
  ].join('\n');
}
