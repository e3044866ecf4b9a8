// Renders the demo's closing table from the coordinator's metrics.jsonl records.
import type { RoundRecord } from './metrics-log';

const pct = (value: number | undefined) => (value === undefined ? '   -  ' : `${(value * 100).toFixed(1).padStart(5)}%`);

const meanOf = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

/**
 * One row per aggregated round: every client's accuracy on its own held-out data with the global model,
 * then the mean, the upload volume and the wall time of the round. Then, when the clients report them, the
 * comparison after the last round: a model each client trained alone for as many epochs (local only), the
 * final global model, and that model with a head fine-tuned on each client's own data (personalised).
 */
export function renderRoundTable(records: RoundRecord[], clientIds: string[]): string {
  const rounds = records.filter((r) => r.status === 'aggregated');
  const width = Math.max(10, ...clientIds.map((id) => id.length + 2));
  const cell = (text: string) => text.padStart(width);
  const title = (text: string) => text.padEnd(14);
  const lines: string[] = [];
  lines.push([title('round'), ...clientIds.map(cell), cell('mean'), cell('MB up'), cell('seconds')].join(' '));
  for (const record of rounds) {
    const accuracies = clientIds.map((id) => record.clients[id]?.accuracy);
    const present = accuracies.filter((a): a is number => a !== undefined);
    lines.push(
      [
        title(`global r${record.round}`),
        ...accuracies.map((a) => cell(pct(a))),
        cell(pct(present.length ? meanOf(present) : undefined)),
        cell((record.bytesUp / 1e6).toFixed(2)),
        cell(record.seconds.toFixed(1)),
      ].join(' '),
    );
  }
  const last = rounds[rounds.length - 1];
  if (!last) return lines.join('\n');
  const rows: string[] = [];
  const summaryRow = (name: string, metric: string) => {
    const values = clientIds.map((id) => last.clients[id]?.[metric]);
    const present = values.filter((a): a is number => a !== undefined);
    if (present.length > 0) rows.push([title(name), ...values.map((a) => cell(pct(a))), cell(pct(meanOf(present)))].join(' '));
  };
  summaryRow('local only', 'localOnlyAccuracy');
  summaryRow(`federated r${last.round}`, 'accuracy');
  summaryRow('personalised', 'personalizedAccuracy');
  if (rows.length > 1) lines.push('', [title('after the run'), ...clientIds.map(cell), cell('mean')].join(' '), ...rows);
  return lines.join('\n');
}

/**
 * One line comparing the final global model's mean accuracy with local only's, and personalised with local
 * only per client; undefined when the clients did not report a local-only accuracy.
 */
export function renderVerdict(records: RoundRecord[], clientIds: string[]): string | undefined {
  const last = records.filter((r) => r.status === 'aggregated').at(-1);
  if (!last) return undefined;
  const both = clientIds.filter((id) => last.clients[id]?.accuracy !== undefined && last.clients[id]?.localOnlyAccuracy !== undefined);
  if (both.length === 0) return undefined;
  const federated = meanOf(both.map((id) => last.clients[id].accuracy));
  const local = meanOf(both.map((id) => last.clients[id].localOnlyAccuracy));
  const gain = 100 * (federated - local);
  const points = `${Math.abs(gain).toFixed(1)} point${Math.abs(gain).toFixed(1) === '1.0' ? '' : 's'}`;
  const comparison = gain > 0 ? `beats local only by ${points}` : gain < 0 ? `trails local only by ${points}` : 'ties with local only';
  let line = `Verdict: the federated model ${comparison} on average (${pct(federated).trim()} vs ${pct(local).trim()})`;
  const personalised = both.filter((id) => last.clients[id].personalizedAccuracy !== undefined);
  if (personalised.length > 0) {
    const atLeast = personalised.filter((id) => last.clients[id].personalizedAccuracy >= last.clients[id].localOnlyAccuracy);
    line += `; personalised is at least as good as local only for ${atLeast.length} of ${personalised.length} organisations`;
  }
  return `${line}.`;
}
