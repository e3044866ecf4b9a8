// Renders the demo's per-round table from the coordinator's metrics.jsonl records.
import type { RoundRecord } from './metrics-log';

const pct = (value: number | undefined) => (value === undefined ? '   -  ' : `${(value * 100).toFixed(1).padStart(5)}%`);

/**
 * One row per aggregated round: every client's accuracy on its own held-out data with the global model,
 * then the mean. Then, when the clients report them: the final global model with a head fine-tuned on each
 * client's own data (personalised), and a model each client trained alone for as many epochs (local only).
 */
export function renderRoundTable(records: RoundRecord[], clientIds: string[]): string {
  const rounds = records.filter((r) => r.status === 'aggregated');
  const width = Math.max(10, ...clientIds.map((id) => id.length + 2));
  const cell = (text: string) => text.padStart(width);
  const lines: string[] = [];
  lines.push(['round'.padEnd(12), ...clientIds.map(cell), cell('mean'), cell('MB up'), cell('seconds')].join(' '));
  for (const record of rounds) {
    const accuracies = clientIds.map((id) => record.clients[id]?.accuracy);
    const present = accuracies.filter((a): a is number => a !== undefined);
    const mean = present.length ? present.reduce((s, a) => s + a, 0) / present.length : undefined;
    lines.push(
      [
        `global r${record.round}`.padEnd(12),
        ...accuracies.map((a) => cell(pct(a))),
        cell(pct(mean)),
        cell((record.bytesUp / 1e6).toFixed(2)),
        cell(record.seconds.toFixed(1)),
      ].join(' '),
    );
  }
  const last = rounds[rounds.length - 1];
  if (last) {
    const summaryRow = (title: string, metric: string) => {
      const values = clientIds.map((id) => last.clients[id]?.[metric]);
      const present = values.filter((a): a is number => a !== undefined);
      if (present.length === 0) return;
      const mean = present.reduce((s, a) => s + a, 0) / present.length;
      lines.push([title.padEnd(12), ...values.map((a) => cell(pct(a))), cell(pct(mean))].join(' '));
    };
    summaryRow('personalised', 'personalizedAccuracy');
    summaryRow('local only', 'localOnlyAccuracy');
  }
  return lines.join('\n');
}
