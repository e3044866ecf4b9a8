// The run's state in the Prometheus text exposition format (version 0.0.4), for scraping at /metrics.
import type { RunStatusSnapshot } from './run-status';

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export function renderPrometheus(status: RunStatusSnapshot): string {
  const lines: string[] = [];
  const metric = (name: string, type: 'gauge' | 'counter', help: string, samples: Array<[labels: Record<string, string>, value: number]>) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) {
      const rendered = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',');
      lines.push(`${name}${rendered ? `{${rendered}}` : ''} ${Number.isFinite(value) ? value : 'NaN'}`);
    }
  };
  const last = [...status.rounds].reverse().find((r) => r.status === 'aggregated');
  metric('fedtl_rounds_planned', 'gauge', 'Rounds this run is configured to complete.', [[{}, status.roundsPlanned]]);
  metric('fedtl_rounds_completed', 'gauge', 'Rounds aggregated and checkpointed so far.', [[{}, status.roundsCompleted]]);
  metric('fedtl_rounds_failed_total', 'counter', 'Round attempts that missed their quorum.', [[{}, status.counters.roundsFailed]]);
  metric('fedtl_clients_connected', 'gauge', 'Clients joined right now.', [[{}, status.clientsConnected]]);
  metric('fedtl_updates_accepted_total', 'counter', 'Client updates aggregated.', [[{}, status.counters.updatesAccepted]]);
  metric(
    'fedtl_update_failures_total',
    'counter',
    'Selected clients left out of a round, by error code.',
    Object.entries(status.counters.failuresByCode).map(([code, count]) => [{ code }, count]),
  );
  metric(
    'fedtl_join_refusals_total',
    'counter',
    'Joins refused, by error code (e.g. FEDTL_ERR_POLICY_REFUSED, FEDTL_ERR_SECAGG_UNSUPPORTED).',
    Object.entries(status.counters.joinRefusalsByCode).map(([code, count]) => [{ code }, count]),
  );
  metric('fedtl_bytes_received_total', 'counter', 'Payload bytes received from clients.', [[{}, status.counters.bytesUp]]);
  metric('fedtl_bytes_sent_total', 'counter', 'Payload bytes sent to clients.', [[{}, status.counters.bytesDown]]);
  if (status.privacy) {
    const privacy = status.privacy;
    metric(
      'fedtl_privacy_epsilon_spent',
      'gauge',
      `Differential privacy spent so far: epsilon at the run's delta, by unit of privacy (record: one example of one client; client: one client).`,
      privacy.spent.map((spend) => [{ unit: spend.unit, delta: String(spend.delta) }, spend.epsilon]),
    );
    if (privacy.budget) {
      metric('fedtl_privacy_epsilon_budget', 'gauge', 'The run\'s privacy budget: the epsilon it may not exceed at delta.', [[{ unit: privacy.mechanism.unit, delta: String(privacy.budget.delta) }, privacy.budget.epsilon]]);
    }
    metric('fedtl_privacy_events_total', 'counter', 'Privacy events in the run\'s ledger.', [[{}, privacy.events]]);
  }
  if (last) {
    metric('fedtl_last_round_seconds', 'gauge', 'Wall time of the last aggregated round.', [[{}, last.seconds]]);
    metric(
      'fedtl_eval_metric',
      'gauge',
      'Evaluation of the global model after the last aggregated round, weighted by examples.',
      Object.entries(last.evaluation).map(([name, value]) => [{ metric: name }, value]),
    );
  }
  return lines.join('\n') + '\n';
}
