// A client's own record of what record-level differential privacy (DP-SGD, PROTOCOL.md §7.1) has spent on its
// data, kept in a file across runs and checked against the organisation's budget (--dp-epsilon, --dp-delta)
// before each plan is trained on.
//
// The unit of privacy is one example of this organisation's data, whatever run uses it: every event in the file
// composes with every other (RDP adds up, Mironov 2017), across rounds and runs alike. Each event names its run
// (`subject`) for the reader; unlike the coordinator's ledger, where record-level events of different clients are
// disjoint data and compose in parallel, here nothing does. An event is recorded once training is done and before
// the update (clear or masked) leaves: the noise is spent when the update is released, and a send that then fails
// does not give it back. A round counted that was never sent costs privacy on paper only; the other way round
// would understate the spend.
//
// The file, `{ "version": 1, "events": [PrivacyEvent…] }`, is replaced atomically (temp file, fsync, rename) at
// every event. A file that cannot be read is refused with FEDTL_ERR_BAD_CONFIG, never reset: an empty ledger would
// give the data its whole budget again.
import { open, mkdir, readFile, rename, unlink } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { dpSgdSpend } from '@fedtl/model';
import { PrivacyLedger, RdpAccountant, type PrivacyBudget, type PrivacyEvent } from '@fedtl/privacy';
import type { TrainingConfig } from '@fedtl/protocol';
import { FedtlError } from '@fedtl/util';

export const LEDGER_FILE_VERSION = 1;

/** What a plan asks of the ledger: its run, round and training terms. */
export interface PlanTerms {
  runId: string;
  round: number;
  config: TrainingConfig;
}

/** What the ledger holds, at one δ. */
export interface LedgerSpend {
  epsilon: number;
  delta: number;
  /** Rounds (events) composed into it. */
  rounds: number;
}

export class ClientPrivacyLedger {
  private constructor(
    /** The ledger file (--dp-ledger). */
    readonly path: string,
    private readonly ledger: PrivacyLedger,
    /** The δ at which the spend is reported and, with a budget, checked (--dp-delta). */
    readonly delta: number,
    /** --dp-epsilon at --dp-delta; absent: plans are not refused, only recorded. */
    readonly budget?: PrivacyBudget,
  ) {}

  /**
   * The ledger in `path`; a file that does not exist is an empty ledger (written at the first event).
   * @throws FedtlError FEDTL_ERR_BAD_CONFIG naming the file for one that cannot be read or is not a ledger.
   */
  static async open(path: string, delta: number, budget?: PrivacyBudget): Promise<ClientPrivacyLedger> {
    let text: string | undefined;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw corrupt(path, (err as Error).message);
    }
    if (text === undefined) return new ClientPrivacyLedger(path, new PrivacyLedger(), delta, budget);
    let file: unknown;
    try {
      file = JSON.parse(text);
    } catch (err) {
      throw corrupt(path, `not JSON (${(err as Error).message})`);
    }
    const { version, events } = (file ?? {}) as { version?: unknown; events?: unknown };
    if (version !== LEDGER_FILE_VERSION) throw corrupt(path, `version ${JSON.stringify(version)}`);
    let ledger: PrivacyLedger;
    try {
      ledger = PrivacyLedger.fromJSON(events, 'events');
    } catch (err) {
      throw corrupt(path, (err as Error).message);
    }
    if (ledger.events.some((event) => event.unit !== 'record')) throw corrupt(path, 'a client-level event (a client keeps record-level events only)');
    return new ClientPrivacyLedger(path, ledger, delta, budget);
  }

  get events(): readonly PrivacyEvent[] {
    return this.ledger.events;
  }

  /** What the ledger has spent at its δ, with `extra` events counted as if recorded. */
  spent(extra: readonly PrivacyEvent[] = []): LedgerSpend {
    const events = [...this.ledger.events, ...extra];
    if (events.length === 0) return { epsilon: 0, delta: this.delta, rounds: 0 };
    // RDP is linear in the steps of one (q, σ): events alike compose as one, so a long ledger costs what its
    // distinct settings cost (this runs on the thread that serves the connection).
    const steps = new Map<string, { samplingRate: number; noiseMultiplier: number; steps: number }>();
    for (const { samplingRate, noiseMultiplier, steps: n } of events) {
      const key = `${samplingRate}/${noiseMultiplier}`;
      const alike = steps.get(key);
      if (alike) alike.steps += n;
      else steps.set(key, { samplingRate, noiseMultiplier, steps: n });
    }
    const accountant = new RdpAccountant();
    for (const event of steps.values()) accountant.compose(event);
    return { epsilon: accountant.epsilon(this.delta), delta: this.delta, rounds: events.length };
  }

  /** The event DP-SGD on `numExamples` records under the plan records (undefined: no DP-SGD with noise). */
  eventFor(plan: PlanTerms, numExamples: number): PrivacyEvent | undefined {
    const clipNorm = plan.config.recordClipNorm ?? 0;
    const noiseMultiplier = plan.config.recordNoiseMultiplier ?? 0;
    if (!(clipNorm > 0) || !(noiseMultiplier > 0)) return undefined;
    return { round: plan.round, unit: 'record', ...dpSgdSpend(plan.config, numExamples, noiseMultiplier), subject: plan.runId };
  }

  /**
   * Why the budget refuses the plan, or undefined when there is no budget or the plan fits in it. A plan without
   * DP-SGD, or with DP-SGD without noise, spends ε = ∞ and is refused whatever the ledger holds.
   */
  refusal(plan: PlanTerms, numExamples: number): string | undefined {
    const budget = this.budget;
    if (!budget) return undefined;
    const limit = `budget --dp-epsilon ${budget.epsilon} at --dp-delta ${formatDelta(budget.delta)}`;
    if (!((plan.config.recordClipNorm ?? 0) > 0)) {
      return `round ${plan.round} trains without DP-SGD (its plan sets no record clip norm): ε = ∞ on this client's data; ${limit}`;
    }
    const event = this.eventFor(plan, numExamples);
    if (!event) return `round ${plan.round} trains by DP-SGD without noise (record noise multiplier 0): ε = ∞ on this client's data; ${limit}`;
    const now = this.spent();
    const would = this.spent([event]);
    if (would.epsilon <= budget.epsilon) return undefined;
    return (
      `round ${plan.round} would take this client's data to ε = ${formatEpsilon(would.epsilon)} at δ = ${formatDelta(budget.delta)} ` +
      `(ledger ${resolve(this.path)}: ε = ${formatEpsilon(now.epsilon)} spent over ${now.rounds} rounds; this round: q = ${formatEpsilon(event.samplingRate)}, ` +
      `σ = ${event.noiseMultiplier}, ${event.steps} steps); ${limit}`
    );
  }

  /**
   * Appends an event and replaces the file atomically; the ledger in memory changes only once the file holds it.
   * @throws FedtlError FEDTL_ERR_BAD_CONFIG for a malformed event, FEDTL_ERR_INTERNAL when the file cannot be written.
   */
  async record(event: PrivacyEvent): Promise<void> {
    const next = new PrivacyLedger([...this.ledger.events, event]);
    const temp = `${this.path}.tmp-${process.pid}`;
    try {
      await mkdir(dirname(resolve(this.path)), { recursive: true });
      const file = await open(temp, 'w');
      try {
        await file.writeFile(`${JSON.stringify({ version: LEDGER_FILE_VERSION, events: next.toJSON() }, null, 2)}\n`);
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temp, this.path);
    } catch (err) {
      await unlink(temp).catch(() => undefined);
      throw new FedtlError('FEDTL_ERR_INTERNAL', `privacy ledger ${resolve(this.path)}: could not record round ${event.round}: ${(err as Error).message}`);
    }
    this.ledger.record(event);
  }
}

function corrupt(path: string, what: string): FedtlError {
  return new FedtlError(
    'FEDTL_ERR_BAD_CONFIG',
    `--dp-ledger ${resolve(path)}: expected a privacy ledger ({"version": ${LEDGER_FILE_VERSION}, "events": [...]}), got ${what}; ` +
      'it is never reset silently: restore it or fix it (removing it forgets what this data has already spent)',
  );
}

function formatEpsilon(value: number): string {
  return Number(value.toPrecision(3)).toString();
}

function formatDelta(value: number): string {
  return value.toExponential().replace('e+', 'e');
}
