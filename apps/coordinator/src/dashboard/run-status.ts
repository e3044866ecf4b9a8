// What an operator wants to see of a run, kept up to date from the coordinator's events: who is connected,
// where the run is, every round's record, and counters for Prometheus. It says when any of it changed ('changed'),
// so live views push instead of polling.
import { EventEmitter } from 'node:events';
import { describePolicy, type PrivacyPolicy } from '@fedtl/privacy';
import type { BackboneRef, ModelSpec, RunEnd } from '@fedtl/protocol';
import type { Coordinator, CoordinatorPhase, PrivacyStatus } from '../coordinator';
import type { RoundRecord } from '../metrics-log';

/** Rounds kept in memory for the page; the full history is in metrics.jsonl. */
const HISTORY_LIMIT = 500;
/** Refused Joins kept for the status API (a client retrying a refused Join would otherwise grow the list). */
const REFUSED_JOINS_KEPT = 50;

export interface RunStatusSnapshot {
  runId: string;
  backbone: BackboneRef;
  model: ModelSpec;
  roundsPlanned: number;
  /** Whether rounds run under secure aggregation (the coordinator then learns only each round's sum). */
  secureAggregation: boolean;
  roundsCompleted: number;
  phase: CoordinatorPhase;
  /** The round being trained or evaluated now, if any. */
  roundInProgress?: number;
  /**
   * When the current phase stops waiting (the round's, the evaluation's or the quorum's timeout), in epoch
   * milliseconds of the coordinator's clock; absent when it waits for as long as it takes. Count down against `now`.
   */
  deadline?: number;
  /** The coordinator's clock when the snapshot was taken (epoch ms): `deadline - now` is what is left, skew-free. */
  now: number;
  /** The run's verdict once it has ended (finished, or failed with its cause). */
  verdict?: RunEnd;
  startedAt: string;
  /** 'operator': every client; 'federation': aggregates and the viewer's own client only (status-access.ts). */
  view: 'operator' | 'federation';
  /** Joined clients right now (in every view; `clients` may list only the viewer's own). */
  clientsConnected: number;
  /**
   * Each client's privacy policy as it stated it at Join, in words (describePolicy) and as its fields (absent
   * when the client stated none), so an operator sees why one stays out.
   */
  clients: Array<{ clientId: string; numTrainExamples: number; joinedAt: string; privacyPolicy: string; policy?: PrivacyPolicy }>;
  /** The latest refused Joins (at most REFUSED_JOINS_KEPT), newest last: who, when and why. */
  refusedJoins: Array<{ clientId?: string; code: string; message: string; at: string }>;
  rounds: StatusRound[];
  counters: RunCounters;
  /** Differential privacy: the mechanism, the budget and the ε spent so far (absent when the run uses none). */
  privacy?: PrivacyStatus;
}

/** A round's record with its counts, which stay whole when the federation view drops other clients' ids. */
export type StatusRound = RoundRecord & { selectedCount: number; acceptedCount: number; failedCount: number };

export interface RunCounters {
  roundsFailed: number;
  updatesAccepted: number;
  /** Refused or missing updates by error code. */
  failuresByCode: Record<string, number>;
  /** Refused Joins by error code (a privacy policy the run cannot meet, a client without secure aggregation…). */
  joinRefusalsByCode: Record<string, number>;
  bytesUp: number;
  bytesDown: number;
}

export class RunStatus extends EventEmitter<{ changed: [] }> {
  private readonly rounds: RoundRecord[] = [];
  private readonly counters: RunCounters = { roundsFailed: 0, updatesAccepted: 0, failuresByCode: {}, joinRefusalsByCode: {}, bytesUp: 0, bytesDown: 0 };
  private readonly refusedJoins: RunStatusSnapshot['refusedJoins'] = [];
  private readonly startedAt = new Date().toISOString();
  private verdict?: RunEnd;

  constructor(
    private readonly coordinator: Coordinator,
    private readonly info: { runId: string; backbone: BackboneRef; model: ModelSpec; roundsPlanned: number; secureAggregation: boolean },
  ) {
    super();
    const changed = () => this.emit('changed');
    for (const event of ['progress', 'joined', 'left'] as const) coordinator.on(event, changed);
    coordinator.on('round', (record) => {
      this.record(record);
      changed();
    });
    coordinator.on('joinRefused', (clientId, error) => {
      this.refusedJoins.push({ ...(clientId !== undefined ? { clientId } : {}), code: error.code, message: error.message, at: new Date().toISOString() });
      if (this.refusedJoins.length > REFUSED_JOINS_KEPT) this.refusedJoins.shift();
      this.counters.joinRefusalsByCode[error.code] = (this.counters.joinRefusalsByCode[error.code] ?? 0) + 1;
      changed();
    });
  }

  /** Records the run's verdict (the server sends it to the clients at the same time). */
  noteVerdict(verdict: RunEnd): void {
    this.verdict = verdict;
    this.emit('changed');
  }

  snapshot(): RunStatusSnapshot {
    return {
      ...this.info,
      roundsCompleted: this.coordinator.roundsCompleted,
      phase: this.coordinator.phase,
      roundInProgress: this.coordinator.roundInProgress,
      ...(this.coordinator.deadline !== undefined ? { deadline: this.coordinator.deadline } : {}),
      now: Date.now(),
      ...(this.verdict ? { verdict: this.verdict } : {}),
      startedAt: this.startedAt,
      view: 'operator',
      clientsConnected: this.coordinator.registry.size,
      clients: this.coordinator.registry.ids().map((clientId) => {
        const client = this.coordinator.registry.get(clientId);
        const policy = client?.join.privacyPolicy;
        return {
          clientId,
          numTrainExamples: client?.join.numTrainExamples ?? 0,
          joinedAt: new Date(client?.joinedAt ?? 0).toISOString(),
          privacyPolicy: policy ? describePolicy(policy) : 'not stated',
          ...(policy ? { policy } : {}),
        };
      }),
      rounds: this.rounds.map((r) => ({ ...r, selectedCount: r.selected.length, acceptedCount: r.accepted.length, failedCount: r.failures.length })),
      refusedJoins: this.refusedJoins.map((r) => ({ ...r })),
      counters: { ...this.counters, failuresByCode: { ...this.counters.failuresByCode }, joinRefusalsByCode: { ...this.counters.joinRefusalsByCode } },
      ...(this.coordinator.privacy ? { privacy: this.coordinator.privacy } : {}),
    };
  }

  private record(record: RoundRecord): void {
    this.rounds.push(record);
    if (this.rounds.length > HISTORY_LIMIT) this.rounds.shift();
    if (record.status === 'failed') this.counters.roundsFailed++;
    else this.counters.updatesAccepted += record.accepted.length;
    for (const failure of record.failures) this.counters.failuresByCode[failure.code] = (this.counters.failuresByCode[failure.code] ?? 0) + 1;
    this.counters.bytesUp += record.bytesUp;
    this.counters.bytesDown += record.bytesDown;
  }
}
