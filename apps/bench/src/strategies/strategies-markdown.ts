// report.md of `bench strategies`: the strategy table (mean ± sample std over seeds), the issue's targets as
// measured, then the settings, cost and machine a reader needs to reproduce it.
import { provenanceLines } from '../domains/markdown-report';
import { formatPercentSpread } from '../seed-spread';
import type { StrategiesReport, StrategyRow } from './strategies-report';

const pct = (fraction: number) => (Number.isFinite(fraction) ? (100 * fraction).toFixed(1) : '–');
const kib = (bytes: number) => `${(bytes / 2 ** 10).toFixed(1)} KiB`;

function attackCell(report: StrategiesReport, row: StrategyRow): string {
  return row.attacked ? `${report.attack.client} (−${report.attack.scale}×)` : '–';
}

/** The table alone (also what the README's Results section shows): one line per row, accuracies in %. */
export function strategiesTable(report: StrategiesReport): string {
  const honest = report.domains.filter((d) => d !== report.attack.client);
  const header = `| strategy | attacker | ${report.domains.join(' | ')} | **mean ± std** | ${honest.length} honest ± std | up / round | s / run |`;
  const rule = `|---|---|${report.domains.map(() => '---:').join('|')}|---:|---:|---:|---:|`;
  const lines = report.rows.map((row) => {
    const cells = report.domains.map((d) => pct(row.perDomain[d]?.mean ?? NaN));
    return `| ${row.strategy} | ${attackCell(report, row)} | ${cells.join(' | ')} | **${formatPercentSpread(row.mean)}** | ${formatPercentSpread(row.honestMean)} | ${kib(row.bytesUp)} | ${row.seconds.toFixed(1)} |`;
  });
  return [header, rule, ...lines].join('\n');
}

/** One line per target: met or missed, with the measured difference in points. */
export function targetLines(report: StrategiesReport): string[] {
  return report.targets.map((t) => `- ${t.met ? '✅ met' : '❌ missed'}: ${t.strategy}, ${t.target}: ${t.points >= 0 ? '+' : '−'}${Math.abs(t.points).toFixed(1)} points.`);
}

/** What Krum's n > 2f + 2 allows with n clients. */
function largestKrumF(n: number): string {
  const f = Math.floor((n - 3) / 2);
  if (f < 0) return `${n} clients cannot run it`;
  return f === 0 ? `with ${n} clients only f = 0 is possible` : `with ${n} clients f can be at most ${f}`;
}

/** The whole report.md. */
export function strategiesMarkdown(report: StrategiesReport): string {
  const h = report.hyperparameters;
  const s = h.strategies;
  const { fedavgm, fedadam } = h.serverOptimizers;
  return [
    `# Strategy table: ${report.labelsPerClient} labels per client`,
    '',
    `${report.evaluatedOn === 'test' ? 'Test' : 'Validation'} accuracy (%) after ${report.rounds} rounds, mean ± sample standard deviation over ` +
      `${report.seeds.length} seeds (${report.seeds.join(', ')}); per-domain cells are means over the seeds. Every row is a real federation: ` +
      'the coordinator and one client process per domain over Socket.IO. Under attack, the ' +
      `${report.attack.client} client trains honestly and sends −${report.attack.scale} × its delta every round (scaled sign flip); it is still ` +
      'evaluated honestly with the global model, so **mean** is over all domains and the next column over the others. ' +
      'Bytes are protocol payloads per round, summed over clients.',
    '',
    strategiesTable(report),
    '',
    'Targets (on the mean over all domains):',
    '',
    ...(report.targets.length > 0 ? targetLines(report) : ['- none: these rows allow no check (they need fedavg and robust strategies, with and without attacker).']),
    '',
    '## Settings',
    '',
    `- Model: adapter width ${h.adapterWidth}, ${h.head} head; ${h.optimizer} lr ${h.learningRate}, batch ${h.batchSize}, ${h.localEpochs} local epoch(s) per round (the domains bench's defaults).`,
    `- fedavgm: server momentum ${fedavgm.serverMomentum}, server lr ${fedavgm.serverLearningRate}; fedadam: server lr ${fedadam.serverLearningRate}, β1 ${fedadam.beta1}, β2 ${fedadam.beta2}, τ ${fedadam.tau} (both validated for the domains bench).`,
    `- fedyogi: server lr ${s.fedyogi.serverLearningRate}, β1 ${s.fedyogi.beta1}, β2 ${s.fedyogi.beta2}, τ ${s.fedyogi.tau}; fedadagrad: server lr ${s.fedadagrad.serverLearningRate}, τ ${s.fedadagrad.tau} (not tuned).`,
    `- fedprox: μ ${s.proximalMu}. per-fedavg: α ${s.metaInnerLearningRate}; its row is the meta-learned global model itself, before the few local steps a client would adapt it with. trimmed-mean: β ${s.trimFraction} (⌊β·${report.domains.length}⌋ = ${Math.floor(s.trimFraction * report.domains.length)} update trimmed from each end of every coordinate).`,
    `- krum and multikrum: f = ${s.byzantineClients}. Krum needs n > 2f + 2 updates, so ${largestKrumF(report.domains.length)}; ` +
      `Krum then keeps the one update closest to its n − 2 nearest others, and multikrum averages the m = ${s.multikrumSelected} best-scored (m = n − f would average them all).`,
    `- Training examples per client: ${report.domains.map((d) => `${d} ${report.trainExamples[d]}`).join(', ')}; evaluated on ${report.domains.map((d) => `${d} ${report.evaluationExamples[d]}`).join(', ')}.`,
    `- ${report.rows.reduce((n, r) => n + r.runs.length, 0)} federations, one after another.`,
    ...provenanceLines(report),
    '',
  ].join('\n');
}
