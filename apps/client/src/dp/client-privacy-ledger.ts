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
//
// Several processes may share one file (README: one --dp-ledger for every run on the same data). So the file is
// the ledger, not this object's copy of it: every check re-reads it, and every record re-reads it, checks the
// budget once more and appends under an inter-process lock (proper-lockfile: an atomic mkdir of `<file>.lock`, its
// mtime refreshed while held, taken over once older than LOCK_STALE_MS when its holder died). The budget check
// made at record time, under the lock, is the one that counts: two processes can never together pass the budget,
// the later one is refused with FEDTL_ERR_PRIVACY_BUDGET and its update must not be sent.
import { randomBytes } from 'node:crypto';
import { open, mkdir, readFile, rename, unlink } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import * as lockfile from 'proper-lockfile';
import { dpSgdSpend } from '@fedtl/model';
import { PrivacyLedger, RdpAccountant, type PrivacyBudget, type PrivacyEvent } from '@fedtl/privacy';
import type { TrainingConfig } from '@fedtl/protocol';
import { FedtlError } from '@fedtl/util';

export const LEDGER_FILE_VERSION = 1;

/** A lock whose mtime has not been refreshed for this long is abandoned (its holder died) and is taken over. */
export const LOCK_STALE_MS = 10_000;
/**
 * Waiting for the lock: backs off from 10 ms to 1 s, about 30 s in all, longer than LOCK_STALE_MS so that a lock
 * left by a process that died is taken over rather than reported. A record holds the lock for a read and a write.
 */
const LOCK_RETRIES = { retries: 40, factor: 1.3, minTimeout: 10, maxTimeout: 1000 };

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
    /** The file as last read (by open, a check or a record). */
    private ledger: PrivacyLedger,
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
    return new ClientPrivacyLedger(path, (await readLedgerFile(path)) ?? new PrivacyLedger(), delta, budget);
  }

  /**
   * Reads the file again (another process sharing it may have recorded since).
   * @throws FedtlError FEDTL_ERR_BAD_CONFIG for a file that cannot be read, is not a ledger, or is gone although
   * it held events when last read (a ledger is never reset silently).
   */
  async refresh(): Promise<void> {
    this.ledger = await this.readCurrent();
  }

  /** The events of the file as last read (by open, refresh, refusal or record). */
  get events(): readonly PrivacyEvent[] {
    return this.ledger.events;
  }

  /** What the file as last read has spent at its δ, with `extra` events counted as if recorded. */
  spent(extra: readonly PrivacyEvent[] = []): LedgerSpend {
    return spendOf([...this.ledger.events, ...extra], this.delta);
  }

  /** The event DP-SGD on `numExamples` records under the plan records (undefined: no DP-SGD with noise). */
  eventFor(plan: PlanTerms, numExamples: number): PrivacyEvent | undefined {
    const clipNorm = plan.config.recordClipNorm ?? 0;
    const noiseMultiplier = plan.config.recordNoiseMultiplier ?? 0;
    if (!(clipNorm > 0) || !(noiseMultiplier > 0)) return undefined;
    return { round: plan.round, unit: 'record', ...dpSgdSpend(plan.config, numExamples, noiseMultiplier), subject: plan.runId };
  }

  /**
   * Why the budget refuses the plan, or undefined when there is no budget or the plan fits in it, against the file
   * as it is now (re-read). A plan without DP-SGD, or with DP-SGD without noise, spends ε = ∞ and is refused
   * whatever the ledger holds. A plan that fits may still be refused by record(), if another process sharing the
   * file records first.
   * @throws FedtlError FEDTL_ERR_BAD_CONFIG as refresh; a RangeError for training terms no DP-SGD can run (no
   * batch, no epoch: the codec refuses such a plan before it gets here).
   */
  async refusal(plan: PlanTerms, numExamples: number): Promise<string | undefined> {
    const budget = this.budget;
    if (!budget) return undefined;
    const limit = `budget --dp-epsilon ${budget.epsilon} at --dp-delta ${formatDelta(budget.delta)}`;
    if (!((plan.config.recordClipNorm ?? 0) > 0)) {
      return `round ${plan.round} trains without DP-SGD (its plan sets no record clip norm): ε = ∞ on this client's data; ${limit}`;
    }
    const event = this.eventFor(plan, numExamples);
    if (!event) return `round ${plan.round} trains by DP-SGD without noise (record noise multiplier 0): ε = ∞ on this client's data; ${limit}`;
    await this.refresh();
    return this.overBudget(event);
  }

  /** Why `event` does not fit in the budget on top of the ledger as last read, or undefined. */
  private overBudget(event: PrivacyEvent): string | undefined {
    const budget = this.budget;
    if (!budget) return undefined;
    const would = this.spent([event]);
    if (would.epsilon <= budget.epsilon) return undefined;
    const now = this.spent();
    return (
      `round ${event.round} would take this client's data to ε = ${formatEpsilon(would.epsilon)} at δ = ${formatDelta(budget.delta)} ` +
      `(ledger ${resolve(this.path)}: ε = ${formatEpsilon(now.epsilon)} spent over ${now.rounds} round${now.rounds === 1 ? '' : 's'}; this round: q = ${formatEpsilon(event.samplingRate)}, ` +
      `σ = ${event.noiseMultiplier}, ${event.steps} steps); budget --dp-epsilon ${budget.epsilon} at --dp-delta ${formatDelta(budget.delta)}`
    );
  }

  /**
   * Under the file's lock: re-reads the file, checks the budget with the event added, appends it and replaces the
   * file atomically. The ledger in memory is the file as read under the lock, with the event once the file holds it.
   * @throws FedtlError FEDTL_ERR_PRIVACY_BUDGET when the event does not fit in the budget any more (another process
   * sharing the file recorded since the plan was checked): nothing is written, and the update must not be sent;
   * FEDTL_ERR_BAD_CONFIG when the file cannot be read (as refresh); FEDTL_ERR_INTERNAL when the lock cannot be
   * taken or the file cannot be written; a malformed event is refused (FEDTL_ERR_BAD_CONFIG) before any of that.
   */
  async record(event: PrivacyEvent): Promise<void> {
    const [checked] = new PrivacyLedger([event]).events; // a malformed event: FEDTL_ERR_BAD_CONFIG, before any I/O
    if (checked.unit !== 'record') throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `privacy ledger ${resolve(this.path)}: expected a record-level event, got unit ${JSON.stringify(checked.unit)}`);
    const failed = (what: string) => new FedtlError('FEDTL_ERR_INTERNAL', `privacy ledger ${resolve(this.path)}: could not record round ${event.round}: ${what}`);
    let release: () => Promise<void>;
    let compromised: Error | undefined;
    try {
      await mkdir(dirname(resolve(this.path)), { recursive: true });
      release = await lockfile.lock(this.path, {
        realpath: false,
        stale: LOCK_STALE_MS,
        retries: LOCK_RETRIES,
        // The default throws from a timer; the write below checks the flag instead.
        onCompromised: (err) => {
          compromised = err;
        },
      });
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code === 'ELOCKED' ? `another process holds its lock ${resolve(this.path)}.lock (${(err as Error).message})` : (err as Error).message;
      throw failed(why);
    }
    try {
      this.ledger = await this.readCurrent();
      const over = this.overBudget(checked);
      if (over !== undefined) throw new FedtlError('FEDTL_ERR_PRIVACY_BUDGET', over);
      const next = new PrivacyLedger([...this.ledger.events, checked]);
      const temp = `${this.path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
      try {
        const file = await open(temp, 'w');
        try {
          await file.writeFile(`${JSON.stringify({ version: LEDGER_FILE_VERSION, events: next.toJSON() }, null, 2)}\n`);
          await file.sync();
        } finally {
          await file.close();
        }
        if (compromised) throw new Error(`its lock was lost (${compromised.message})`);
        await rename(temp, this.path);
      } catch (err) {
        await unlink(temp).catch(() => undefined);
        throw failed((err as Error).message);
      }
      this.ledger = next;
    } finally {
      await release().catch(() => undefined);
    }
  }

  /** The file as it is now; see refresh. */
  private async readCurrent(): Promise<PrivacyLedger> {
    const ledger = await readLedgerFile(this.path);
    if (ledger) return ledger;
    if (this.ledger.events.length > 0) throw corrupt(this.path, `no file, where it held ${this.ledger.events.length} events when last read`);
    return new PrivacyLedger();
  }
}

/**
 * The ledger in `path`, or undefined when there is no file.
 * @throws FedtlError FEDTL_ERR_BAD_CONFIG naming the file for one that cannot be read or is not a ledger.
 */
async function readLedgerFile(path: string): Promise<PrivacyLedger | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw corrupt(path, (err as Error).message);
  }
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
  return ledger;
}

/** What `events` spend at `delta`. */
function spendOf(events: readonly PrivacyEvent[], delta: number): LedgerSpend {
  if (events.length === 0) return { epsilon: 0, delta, rounds: 0 };
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
  return { epsilon: accountant.epsilon(delta), delta, rounds: events.length };
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
