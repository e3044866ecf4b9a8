// report.md: the table a reader looks for first (methods x domains + mean), then what it cost and where it ran.
import { describeMachine } from '../machine';
import type { MethodName } from './domains-config';
import type { DomainsReport } from './report';
import { compressionLines } from './compression-comparison';

const pct = (accuracy: number) => (Number.isFinite(accuracy) ? (100 * accuracy).toFixed(1) : '–');

function bytes(n: number): string {
  if (n === 0) return '–';
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(2)} MiB`;
  return `${(n / 2 ** 10).toFixed(1)} KiB`;
}

/** Bytes in KiB to one decimal: secure aggregation's overhead is too small to show in MiB. */
const kib = (n: number) => `${(n / 2 ** 10).toFixed(1)} KiB`;

/** The relative change from `base` to `value`, signed, in percent. */
function change(value: number, base: number): string {
  const percent = (100 * (value - base)) / base;
  if (!Number.isFinite(percent)) return '–';
  return `${percent >= 0 ? '+' : '−'}${Math.abs(percent).toFixed(Math.abs(percent) < 10 ? 1 : 0)} %`;
}

/** The accuracy table alone (also pasted into the README's Results section). */
export function accuracyTable(report: DomainsReport): string {
  const header = `| method | ${report.domains.join(' | ')} | **mean** | up / round | down / round | wall s |`;
  const rule = `|---|${report.domains.map(() => '---:').join('|')}|---:|---:|---:|---:|`;
  const rows = (Object.entries(report.methods) as Array<[MethodName, NonNullable<DomainsReport['methods'][MethodName]>]>).map(([method, result]) => {
    const cells = report.domains.map((domain) => pct(result.perDomain[domain]));
    const seconds = result.sharedRunWith ? `(${result.sharedRunWith})` : result.seconds.toFixed(1);
    return `| ${method} | ${cells.join(' | ')} | **${pct(result.mean)}** | ${bytes(result.bytesUp)} | ${bytes(result.bytesDown)} | ${seconds} |`;
  });
  return [header, rule, ...rows].join('\n');
}

/**
 * fedavg-secagg next to fedavg: the largest difference of any domain's accuracy after any round, and what a
 * round cost each run. Empty when the report has no comparison (fedavg-secagg or fedavg did not run).
 */
export function secureAggregationLines(report: DomainsReport): string[] {
  const c = report.secureAggregation;
  if (!c) return [];
  const difference = Number.isFinite(c.maxAccuracyDifference)
    ? `${(100 * c.maxAccuracyDifference).toFixed(2)} points (${c.maxDifferenceInExamples} test example${c.maxDifferenceInExamples === 1 ? '' : 's'})` +
      (c.worst ? `, ${c.worst.domain} after round ${c.worst.round}` : '')
    : 'not comparable (the runs differ in rounds or domains)';
  const withPersonalized = report.methods.personalized?.sharedRunWith === 'fedavg';
  return [
    `fedavg-secagg is the fedavg federation under secure aggregation (the coordinator unmasks only each round's sum). ` +
      `Largest |accuracy difference| from fedavg over ${c.rounds} rounds × ${c.domains} domains: **${difference}**; ` +
      `final global weights differ by at most ${c.maxWeightDifference.toExponential(1)} (each round's sum agrees to the fixed-point step; ` +
      'later rounds train from weights that differ by it, which local training can widen).',
    '',
    '| run | up / round | down / round | s / round |',
    '|---|---:|---:|---:|',
    `| fedavg | ${kib(c.plain.bytesUp)} | ${kib(c.plain.bytesDown)} | ${c.plain.secondsPerRound.toFixed(2)}${withPersonalized ? ' *' : ''} |`,
    `| fedavg-secagg | ${kib(c.secure.bytesUp)} (${change(c.secure.bytesUp, c.plain.bytesUp)}) | ${kib(c.secure.bytesDown)} (${change(c.secure.bytesDown, c.plain.bytesDown)}) | ` +
      `${c.secure.secondsPerRound.toFixed(2)}${withPersonalized ? '' : ` (${change(c.secure.secondsPerRound, c.plain.secondsPerRound)})`} |`,
    ...(withPersonalized
      ? ['', "\\* fedavg's rounds include the clients' private head fine-tuning for personalized (measured in the same run); `--methods fedavg,fedavg-secagg` compares the seconds alone."]
      : []),
  ];
}

/** The settings of the server-optimiser rows, for those in the report. */
function serverOptimizerLines(report: DomainsReport): string[] {
  const { fedavgm, fedadam } = report.hyperparameters.serverOptimizers;
  return [
    ...(report.methods.fedavgm ? [`- fedavgm: FedAvg with server momentum ${fedavgm.serverMomentum}, server learning rate ${fedavgm.serverLearningRate}.`] : []),
    ...(report.methods.fedadam
      ? [`- fedadam: FedAvg with server Adam, learning rate ${fedadam.serverLearningRate}, β1 ${fedadam.beta1}, β2 ${fedadam.beta2}, τ ${fedadam.tau}.`]
      : []),
  ];
}

/** The closing lines of a benchmark's report.md (also the cross-task one's): backbone, embedding, wall time and machine, command. */
export function provenanceLines(report: Pick<DomainsReport, 'backbone' | 'backend' | 'embedding' | 'seconds' | 'machine' | 'command'>): string[] {
  return [
    `- Backbone ${report.backbone.id} (${report.backbone.hash.slice(0, 12)}), backend ${report.backend}.`,
    `- Embedding: ${report.embedding.texts} texts, ${report.embedding.computed} computed, ${report.embedding.cached} from the cache, ${report.embedding.seconds.toFixed(1)} s.`,
    `- Wall time ${report.seconds.toFixed(1)} s on ${describeMachine(report.machine)}.`,
    `- Command: \`${report.command}\``,
  ];
}

export function markdownReport(report: DomainsReport): string {
  const h = report.hyperparameters;
  const lines = [
    `# Cross-domain benchmark: ${report.labelsPerClient} labels per client`,
    '',
    `${report.evaluatedOn === 'test' ? 'Test' : 'Validation'} accuracy (%) per domain, ${report.rounds} rounds, seed ${report.seed}. ` +
      'Each domain is one organisation (one client). Bytes are protocol payloads per round, summed over clients.',
    '',
    accuracyTable(report),
    '',
    ...(report.secureAggregation ? [...secureAggregationLines(report), ''] : []),
    ...(report.compression ? [...compressionLines(report.compression, report.domains), ''] : []),
    'Negative transfer (a method below `local` on a domain): ' +
      (report.negativeTransfer.length === 0
        ? 'none.'
        : report.negativeTransfer.map((n) => `${n.method} on ${n.domain} ${(100 * n.delta).toFixed(1)} points`).join('; ') + '.'),
    '',
    '![accuracy per round](accuracy.svg)',
    '',
    `- Training examples per client: ${report.domains.map((d) => `${d} ${report.trainExamples[d]}`).join(', ')}; evaluated on ${report.domains.map((d) => `${d} ${report.evaluationExamples[d]}`).join(', ')}.`,
    `- Model: ${h.lora ? `LoRA rank ${h.lora.rank} (α ${h.lora.alpha}) in ${h.lora.targets.join(', ')} of use-lite layer${h.lora.layers.length > 1 ? 's' : ''} ${h.lora.layers.join(', ')}, ` : 'backbone frozen, '}adapter width ${h.adapterWidth}, ${h.head} head${h.head === 'mlp' ? ` (${h.headHidden} hidden)` : ''}; ${h.optimizer} lr ${h.learningRate}, batch ${h.batchSize}, ${h.localEpochs} local epoch(s) per round; personalized: ${h.personalizeEpochs} epochs of private head fine-tuning after each round.`,
    ...serverOptimizerLines(report),
    ...provenanceLines(report),
    '',
  ];
  return lines.join('\n');
}
