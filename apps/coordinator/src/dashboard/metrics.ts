// The coordinator's Prometheus metrics (/metrics) through prom-client: the run's state as fedtl_* metrics, a
// histogram of round durations, and the process's own (heap, RSS, event-loop lag, GC, handles).
//
// Each coordinator has a Registry of its own (several run in one test process, and the global default registry
// would mix them). The process metrics are in one registry per process, merged into each coordinator's:
// collectDefaultMetrics starts an event-loop-delay monitor and a GC observer that it never stops, so calling it
// per coordinator would leave one of each running for every coordinator ever started.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RoundRecord } from '../metrics-log';
import type { RunStatusSnapshot } from './run-status';

/** Upper bounds (seconds) of fedtl_round_duration_seconds: rounds last from seconds (a demo) to hours (a large model). */
export const ROUND_DURATION_BUCKETS: readonly number[] = [1, 2, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400];

let processRegistry: Registry | undefined;

/** The process's default metrics (prom-client's collectDefaultMetrics), collected once per process. */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

export class CoordinatorMetrics {
  /** This coordinator's registry: its fedtl_* metrics and the process's. */
  readonly registry: Registry;
  /** The snapshot the scrape in progress reads (one per scrape, not one per metric). */
  private current?: RunStatusSnapshot;

  /**
   * @param status the run's status, read at every scrape
   * @param rounds emits each round's record ('round'): aggregated rounds are observed in the duration histogram
   * @param privacy whether the run uses differential privacy (the fedtl_privacy_* metrics exist only then)
   */
  constructor(status: { snapshot(): RunStatusSnapshot }, rounds: { on(event: 'round', listener: (record: RoundRecord) => void): unknown }, privacy: boolean) {
    const own = new Registry();
    const registers = [own];
    const read = (): RunStatusSnapshot => this.current ?? status.snapshot();
    const gauge = (name: string, help: string, value: (s: RunStatusSnapshot) => number) =>
      new Gauge({ name, help, registers, collect() { this.set(value(read())); } });
    const counter = (name: string, help: string, value: (s: RunStatusSnapshot) => number) =>
      new Counter({ name, help, registers, collect() { this.reset(); this.inc(value(read())); } });
    const countersByCode = (name: string, help: string, value: (s: RunStatusSnapshot) => Record<string, number>) =>
      new Counter({
        name, help, registers, labelNames: ['code'],
        collect() {
          this.reset();
          for (const [code, count] of Object.entries(value(read()))) this.inc({ code }, count);
        },
      });

    gauge('fedtl_rounds_planned', 'Rounds this run is configured to complete.', (s) => s.roundsPlanned);
    gauge('fedtl_rounds_completed', 'Rounds aggregated and checkpointed so far.', (s) => s.roundsCompleted);
    counter('fedtl_rounds_failed_total', 'Round attempts that missed their quorum.', (s) => s.counters.roundsFailed);
    gauge('fedtl_clients_connected', 'Clients joined right now.', (s) => s.clientsConnected);
    counter('fedtl_updates_accepted_total', 'Client updates aggregated.', (s) => s.counters.updatesAccepted);
    countersByCode('fedtl_update_failures_total', 'Selected clients left out of a round, by error code.', (s) => s.counters.failuresByCode);
    countersByCode('fedtl_join_refusals_total', 'Joins refused, by error code (e.g. FEDTL_ERR_POLICY_REFUSED, FEDTL_ERR_SECAGG_UNSUPPORTED).', (s) => s.counters.joinRefusalsByCode);
    counter('fedtl_bytes_received_total', 'Payload bytes received from clients.', (s) => s.counters.bytesUp);
    counter('fedtl_bytes_sent_total', 'Payload bytes sent to clients.', (s) => s.counters.bytesDown);
    if (privacy) {
      new Gauge({
        name: 'fedtl_privacy_epsilon_spent',
        help: "Differential privacy spent so far: epsilon at the run's delta, by unit of privacy (record: one example of one client; client: one client).",
        registers, labelNames: ['unit', 'delta'],
        collect() {
          this.reset();
          for (const spend of read().privacy?.spent ?? []) this.set({ unit: spend.unit, delta: String(spend.delta) }, spend.epsilon);
        },
      });
      new Gauge({
        name: 'fedtl_privacy_epsilon_budget',
        help: "The run's privacy budget: the epsilon it may not exceed at delta.",
        registers, labelNames: ['unit', 'delta'],
        collect() {
          this.reset();
          const p = read().privacy;
          if (p?.budget) this.set({ unit: p.mechanism.unit, delta: String(p.budget.delta) }, p.budget.epsilon);
        },
      });
      counter('fedtl_privacy_events_total', "Privacy events in the run's ledger.", (s) => s.privacy?.events ?? 0);
    }
    // Absent (no sample) until a round is aggregated, as a value of 0 would read as a measurement.
    const lastAggregated = (s: RunStatusSnapshot) => [...s.rounds].reverse().find((r) => r.status === 'aggregated');
    new Gauge({
      name: 'fedtl_last_round_seconds', help: 'Wall time of the last aggregated round.', registers, labelNames: [],
      collect() {
        const last = lastAggregated(read());
        if (last) this.set(last.seconds);
        else this.remove();
      },
    });
    new Gauge({
      name: 'fedtl_eval_metric', help: 'Evaluation of the global model after the last aggregated round, weighted by examples.', registers, labelNames: ['metric'],
      collect() {
        this.reset();
        for (const [metric, value] of Object.entries(lastAggregated(read())?.evaluation ?? {})) this.set({ metric }, value);
      },
    });
    const roundDuration = new Histogram({
      name: 'fedtl_round_duration_seconds',
      help: 'Wall time of each round this coordinator aggregated, from its plans going out to its evaluation.',
      registers, buckets: [...ROUND_DURATION_BUCKETS],
    });
    rounds.on('round', (record) => {
      if (record.status === 'aggregated') roundDuration.observe(record.seconds);
    });
    this.registry = Registry.merge([processMetrics(), own]);
  }

  /** The Prometheus text exposition (version 0.0.4) of every metric, as of now. */
  async render(snapshot: RunStatusSnapshot): Promise<string> {
    this.current = snapshot;
    try {
      return await this.registry.metrics();
    } finally {
      this.current = undefined;
    }
  }
}
