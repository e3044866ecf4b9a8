// The privacy ledger: every application of a differentially private mechanism a run (or a client) has made, and
// what they add up to. The coordinator keeps one per run (checkpointed with the weights); a client keeps one for
// its own data across runs. The arithmetic is the RDP accountant's (rdp-accountant.ts); this file only decides
// what composes with what:
//   - client-level events (DP-FedAvg; the unit of privacy is one client) all compose together;
//   - record-level events (DP-SGD; the unit is one example of one client) compose per subject, the client whose
//     data was used, and a run's record-level ε is the largest over its clients (each client's data is disjoint
//     from the others', so the guarantee of one example is its own client's ledger; parallel composition).
import { FedtlError } from '@fedtl/util';
import { DEFAULT_RDP_ORDERS, epsilonFromRdp, sampledGaussianRdp } from './rdp-accountant';

/** Whose presence the guarantee hides: one example of one client, or a whole client. */
export type PrivacyUnit = 'record' | 'client';

/** One round's use of the Poisson-sampled Gaussian mechanism. */
export interface PrivacyEvent {
  /** The round of the run that spent it (1-based). */
  round: number;
  unit: PrivacyUnit;
  mechanism: 'poisson-sampled-gaussian';
  /** q ∈ (0, 1]: each record's (or client's) probability of being in one step. */
  samplingRate: number;
  /** σ > 0: the noise's standard deviation over the clipping bound. */
  noiseMultiplier: number;
  /** Steps of the mechanism in this event (DP-SGD: epochs × round(1/q); DP-FedAvg: 1 per round). */
  steps: number;
  /** Record-level: the client whose examples were used (at the coordinator), or the run id (in a client's ledger). */
  subject?: string;
}

/** An (ε, δ) budget: the ledger may never reach an ε above `epsilon` at `delta`. */
export interface PrivacyBudget {
  epsilon: number;
  delta: number;
}

/** What a ledger has spent at one δ, per unit. */
export interface PrivacySpend {
  unit: PrivacyUnit;
  epsilon: number;
  delta: number;
  /** Record-level: the subject whose ε is the largest (the run's guarantee is its). */
  subject?: string;
  /** Events composed into this figure. */
  events: number;
}

/** @throws FedtlError FEDTL_ERR_BAD_CONFIG naming `where` when ε is not finite and > 0 or δ is not in (0, 1). */
export function checkBudget(budget: PrivacyBudget, where = 'privacy budget'): PrivacyBudget {
  if (!Number.isFinite(budget.epsilon) || budget.epsilon <= 0) {
    throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `${where}: expected an epsilon > 0 and finite, got ${budget.epsilon}`);
  }
  if (!Number.isFinite(budget.delta) || budget.delta <= 0 || budget.delta >= 1) {
    throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `${where}: expected a delta in (0, 1), got ${budget.delta}`);
  }
  return budget;
}

function checkEvent(event: PrivacyEvent, where: string): PrivacyEvent {
  const bad = (field: string, expected: string, got: unknown) =>
    new FedtlError('FEDTL_ERR_BAD_CONFIG', `${where}: expected ${field} ${expected}, got ${JSON.stringify(got)}`);
  if (typeof event !== 'object' || event === null) throw bad('an event', 'to be an object', event);
  if (!Number.isInteger(event.round) || event.round < 1) throw bad('round', 'to be an integer ≥ 1', event.round);
  if (event.unit !== 'record' && event.unit !== 'client') throw bad('unit', '"record" or "client"', event.unit);
  if (event.mechanism !== 'poisson-sampled-gaussian') throw bad('mechanism', '"poisson-sampled-gaussian"', event.mechanism);
  if (typeof event.samplingRate !== 'number' || !(event.samplingRate > 0 && event.samplingRate <= 1)) throw bad('samplingRate', 'in (0, 1]', event.samplingRate);
  if (typeof event.noiseMultiplier !== 'number' || !(event.noiseMultiplier > 0) || !Number.isFinite(event.noiseMultiplier)) {
    throw bad('noiseMultiplier', 'finite and > 0', event.noiseMultiplier);
  }
  if (!Number.isInteger(event.steps) || event.steps < 1) throw bad('steps', 'to be an integer ≥ 1', event.steps);
  if (event.subject !== undefined && (typeof event.subject !== 'string' || event.subject.length === 0)) throw bad('subject', 'a non-empty string', event.subject);
  return {
    round: event.round,
    unit: event.unit,
    mechanism: event.mechanism,
    samplingRate: event.samplingRate,
    noiseMultiplier: event.noiseMultiplier,
    steps: event.steps,
    ...(event.subject !== undefined ? { subject: event.subject } : {}),
  };
}

/**
 * An append-only list of privacy events with the accounting over them. Pure: storing it is the owner's (a
 * checkpoint, a client's ledger file).
 */
export class PrivacyLedger {
  private readonly list: PrivacyEvent[] = [];
  /** Composed RDP per unit and subject ("client", or "record:" + subject), kept as events arrive: spent() is O(orders). */
  private readonly totals = new Map<string, Total>();

  /** @throws FedtlError FEDTL_ERR_BAD_CONFIG for a malformed event. */
  constructor(
    events: readonly PrivacyEvent[] = [],
    private readonly orders: readonly number[] = DEFAULT_RDP_ORDERS,
  ) {
    this.record(...events.map((event, i) => checkEvent(event, `privacy ledger event ${i}`)));
  }

  /** Reads a ledger written by toJSON(); `source` names it in errors. @throws FedtlError FEDTL_ERR_BAD_CONFIG. */
  static fromJSON(value: unknown, source: string): PrivacyLedger {
    if (!Array.isArray(value)) throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `${source}: expected a list of privacy events, got ${typeof value}`);
    return new PrivacyLedger(value.map((event, i) => checkEvent(event as PrivacyEvent, `${source}: event ${i}`)));
  }

  get events(): readonly PrivacyEvent[] {
    return this.list;
  }

  /** Appends events. @throws FedtlError FEDTL_ERR_BAD_CONFIG for a malformed one (nothing is appended then). */
  record(...events: PrivacyEvent[]): void {
    const checked = events.map((event) => checkEvent(event, 'privacy event'));
    this.list.push(...checked);
    this.addTo(this.totals, checked);
  }

  /** The events as plain JSON (for a checkpoint or a ledger file). */
  toJSON(): PrivacyEvent[] {
    return this.list.map((event) => ({ ...event }));
  }

  /**
   * What is spent at `delta`, per unit that has events (client-level first), with `extra` events counted as if
   * recorded: the cost a round would bring before it runs.
   * @throws RangeError for δ outside (0, 1).
   */
  spent(delta: number, extra: readonly PrivacyEvent[] = []): PrivacySpend[] {
    if (!(delta > 0 && delta < 1)) throw new RangeError(`PrivacyLedger: expected delta in (0, 1), got ${delta}`);
    const totals = this.cloneTotals();
    this.addTo(totals, extra.map((event) => checkEvent(event, 'privacy event')));
    const spends: PrivacySpend[] = [];
    const clientLevel = totals.get(CLIENT_KEY);
    if (clientLevel) spends.push({ unit: 'client', epsilon: epsilonFromRdp(this.orders, clientLevel.rdp, delta).epsilon, delta, events: clientLevel.events });
    let worst: PrivacySpend | undefined;
    for (const [key, total] of [...totals].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (key === CLIENT_KEY) continue;
      const epsilon = epsilonFromRdp(this.orders, total.rdp, delta).epsilon;
      if (!worst || epsilon > worst.epsilon) worst = { unit: 'record', epsilon, delta, ...(total.subject ? { subject: total.subject } : {}), events: total.events };
    }
    if (worst) spends.push(worst);
    return spends;
  }

  /**
   * The worst unit and subject that `extra` touches whose ε at budget.delta, with `extra` counted, would exceed
   * budget.epsilon (with no `extra`: any that already does); undefined when all stay within it. The check a
   * coordinator makes before a round: a client's data that is not in the round is not the round's to spend.
   */
  overBudget(budget: PrivacyBudget, extra: readonly PrivacyEvent[] = []): { would: PrivacySpend; now?: PrivacySpend } | undefined {
    const checked = extra.map((event) => checkEvent(event, 'privacy event'));
    const keys = new Set(checked.map(keyOf));
    // Only the touched totals are copied: checking one client among thousands stays O(orders).
    const after = new Map<string, Total>();
    for (const [key, total] of this.totals) if (keys.size === 0 || keys.has(key)) after.set(key, { ...total, rdp: total.rdp.slice() });
    this.addTo(after, checked);
    const would = worstOf(after, this.orders, budget.delta);
    if (!would || would.epsilon <= budget.epsilon) return undefined;
    const before = this.totals.get(would.unit === 'client' ? CLIENT_KEY : `record:${would.subject ?? ''}`);
    const now = before ? spendOf(before, this.orders, budget.delta) : undefined;
    return { would, ...(now ? { now } : {}) };
  }

  /**
   * Whether `extra` would take the unit and subject it touches over budget.epsilon at budget.delta, looking only at
   * those (O(orders) per touched subject): the check for one client among many.
   */
  wouldExceed(budget: PrivacyBudget, extra: readonly PrivacyEvent[]): boolean {
    return extra.length > 0 && this.overBudget(budget, extra) !== undefined;
  }

  /** Adds each event's steps of its (q, σ) curve to the total of its unit and subject (RDP composes by addition). */
  private cloneTotals(): Map<string, Total> {
    return new Map([...this.totals].map(([key, total]) => [key, { ...total, rdp: total.rdp.slice() }]));
  }

  private addTo(totals: Map<string, Total>, events: readonly PrivacyEvent[]): void {
    for (const event of events) {
      const key = keyOf(event);
      let total = totals.get(key);
      if (!total) {
        total = { unit: event.unit, ...(event.unit === 'record' && event.subject ? { subject: event.subject } : {}), rdp: this.orders.map(() => 0), events: 0 };
        totals.set(key, total);
      }
      // sampledGaussianRdp remembers the curves at the default orders: a run repeats a few (q, σ).
      const curve = sampledGaussianRdp(event.samplingRate, event.noiseMultiplier, this.orders);
      for (let i = 0; i < curve.length; i++) total.rdp[i] += curve[i] * event.steps;
      total.events += 1;
    }
  }
}

const CLIENT_KEY = 'client';

type Total = { unit: PrivacyUnit; subject?: string; rdp: number[]; events: number };

function keyOf(event: PrivacyEvent): string {
  return event.unit === 'client' ? CLIENT_KEY : `record:${event.subject ?? ''}`;
}

function spendOf(total: Total, orders: readonly number[], delta: number): PrivacySpend {
  return { unit: total.unit, epsilon: epsilonFromRdp(orders, total.rdp, delta).epsilon, delta, ...(total.subject ? { subject: total.subject } : {}), events: total.events };
}

/** The largest ε among `totals` at δ (client-level and record-level alike). */
function worstOf(totals: Map<string, Total>, orders: readonly number[], delta: number): PrivacySpend | undefined {
  let worst: PrivacySpend | undefined;
  for (const total of totals.values()) {
    const spend = spendOf(total, orders, delta);
    if (!worst || spend.epsilon > worst.epsilon) worst = spend;
  }
  return worst;
}
