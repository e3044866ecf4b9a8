// Collects the evaluation reports of one round from the clients that were asked, until all answered or
// the deadline passed. A missing report is not an error: the round's model is already aggregated.
import { FedtlError } from '@fedtl/util';
import type { EvaluateReport } from '@fedtl/protocol';
import { checkEvaluateReport, type ReportContext } from './report-checks';

export class EvaluationCollector {
  private readonly reports = new Map<string, EvaluateReport>();
  private readonly pending: Set<string>;
  private readonly settled: Promise<EvaluateReport[]>;
  private settle!: () => void;
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  constructor(
    readonly runId: string,
    readonly round: number,
    asked: Iterable<string>,
    deadlineMs: number,
    /** What each client declared at Join (its test examples) and the run's labels, to check its report. */
    private readonly reportContext: (clientId: string) => ReportContext,
  ) {
    this.pending = new Set(asked);
    this.settled = new Promise<void>((resolve) => (this.settle = resolve)).then(() =>
      [...this.reports.values()].sort((a, b) => a.clientId.localeCompare(b.clientId)),
    );
    this.timer = setTimeout(() => this.close(), deadlineMs);
    this.timer.unref?.();
    if (this.pending.size === 0) this.close();
  }

  done(): Promise<EvaluateReport[]> {
    return this.settled;
  }

  accept(senderId: string, report: EvaluateReport): void {
    if (report.runId !== this.runId) {
      throw new FedtlError('FEDTL_ERR_WRONG_RUN', `expected a report for run ${this.runId}, got run ${report.runId}`);
    }
    if (this.closed || report.round !== this.round) {
      throw new FedtlError('FEDTL_ERR_WRONG_ROUND', `expected a report for round ${this.closed ? 'none (evaluation closed)' : this.round}, got round ${report.round}`);
    }
    if (report.clientId !== senderId) {
      throw new FedtlError('FEDTL_ERR_UNAUTHORIZED', `report claims client "${report.clientId}" but was sent by "${senderId}"`);
    }
    if (!this.pending.has(senderId)) {
      throw new FedtlError('FEDTL_ERR_DUPLICATE_UPDATE', `client "${senderId}" was not asked or already reported for round ${this.round}`);
    }
    try {
      checkEvaluateReport(report, this.reportContext(senderId));
    } catch (err) {
      // A refused report is the sender's answer: waiting for another would stall the round until its deadline.
      this.forget(senderId);
      throw err;
    }
    this.pending.delete(senderId);
    this.reports.set(senderId, report);
    if (this.pending.size === 0) this.close();
  }

  /** A client that left will not report; stop waiting for it. */
  forget(clientId: string): void {
    if (this.pending.delete(clientId) && this.pending.size === 0) this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    this.settle();
  }
}
