// report.md: the table a reader looks for first (methods x domains + mean), then what it cost and where it ran.
import { describeMachine } from '../machine';
import type { MethodName } from './domains-config';
import type { DomainsReport } from './report';

const pct = (accuracy: number) => (Number.isFinite(accuracy) ? (100 * accuracy).toFixed(1) : '–');

function bytes(n: number): string {
  if (n === 0) return '–';
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(2)} MiB`;
  return `${(n / 2 ** 10).toFixed(1)} KiB`;
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
    'Negative transfer (a method below `local` on a domain): ' +
      (report.negativeTransfer.length === 0
        ? 'none.'
        : report.negativeTransfer.map((n) => `${n.method} on ${n.domain} ${(100 * n.delta).toFixed(1)} points`).join('; ') + '.'),
    '',
    '![accuracy per round](accuracy.svg)',
    '',
    `- Training examples per client: ${report.domains.map((d) => `${d} ${report.trainExamples[d]}`).join(', ')}; evaluated on ${report.domains.map((d) => `${d} ${report.evaluationExamples[d]}`).join(', ')}.`,
    `- Model: adapter width ${h.adapterWidth}, ${h.head} head${h.head === 'mlp' ? ` (${h.headHidden} hidden)` : ''}; ${h.optimizer} lr ${h.learningRate}, batch ${h.batchSize}, ${h.localEpochs} local epoch(s) per round; personalized: ${h.personalizeEpochs} epochs of private head fine-tuning after each round.`,
    ...serverOptimizerLines(report),
    `- Backbone ${report.backbone.id} (${report.backbone.hash.slice(0, 12)}), backend ${report.backend}.`,
    `- Embedding: ${report.embedding.texts} texts, ${report.embedding.computed} computed, ${report.embedding.cached} from the cache, ${report.embedding.seconds.toFixed(1)} s.`,
    `- Wall time ${report.seconds.toFixed(1)} s on ${describeMachine(report.machine)}.`,
    `- Command: \`${report.command}\``,
    '',
  ];
  return lines.join('\n');
}
