// Sampled logging of refused messages, one instance per connection: a peer that sends thousands of bad
// messages (a bug in a loop, or on purpose) must not turn the coordinator's log into its own amplifier. The
// first few refusals of each window are logged in full; the rest are counted by code and logged as one summary
// line when the next window starts or the connection closes.
import type { Logger } from '@fedtl/util';

/** Refusals logged in full per connection and window; the others are counted. */
export const REFUSALS_LOGGED_PER_WINDOW = 5;
/** The sampling window, in milliseconds. */
export const REFUSAL_LOG_WINDOW_MS = 60_000;

export class RefusalLog {
  private windowStart = 0;
  private loggedInWindow = 0;
  private readonly suppressed = new Map<string, number>();

  /**
   * @param log where the lines go
   * @param peer fields naming the connection on every line (its address, and its client id once joined)
   * @param now the clock, in milliseconds (tests pass their own)
   */
  constructor(
    private readonly log: Logger,
    private readonly peer: () => Record<string, unknown>,
    private readonly now: () => number = Date.now,
  ) {}

  /** Logs a refusal in full, or counts it when this window's quota of full lines is spent. */
  refused(message: string, fields: { event: string; code: string; error: string }): void {
    const now = this.now();
    if (now - this.windowStart >= REFUSAL_LOG_WINDOW_MS) {
      this.flush();
      this.windowStart = now;
      this.loggedInWindow = 0;
    }
    if (this.loggedInWindow < REFUSALS_LOGGED_PER_WINDOW) {
      this.loggedInWindow++;
      const last = this.loggedInWindow === REFUSALS_LOGGED_PER_WINDOW ? { note: 'further refusals of this connection in this minute are counted, not logged' } : {};
      this.log.warn(message, { ...this.peer(), ...fields, ...last });
      return;
    }
    this.suppressed.set(fields.code, (this.suppressed.get(fields.code) ?? 0) + 1);
  }

  /** Logs the counts of refusals not logged in full, if any (at a window's end and when the connection closes). */
  flush(): void {
    if (this.suppressed.size === 0) return;
    const byCode = Object.fromEntries(this.suppressed);
    const total = [...this.suppressed.values()].reduce((sum, n) => sum + n, 0);
    this.suppressed.clear();
    this.log.warn('refused more messages from this connection than were logged', { ...this.peer(), count: total, byCode });
  }
}
