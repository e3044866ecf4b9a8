// The shape every leakage attack has: from what the coordinator received, guesses of the client's feature vectors.
import type { ObservedUpdate } from './observed-update';

/** What an attack recovers: feature-vector guesses (inputDim each), and facts about how (for the report). */
export interface AttackResult {
  vectors: Float32Array[];
  /**
   * How a guess picks its candidate from a pool: by cosine similarity (default), or by the share of coordinates
   * whose signs agree (for guesses that only know signs).
   */
  rankBy?: 'cosine' | 'sign-agreement';
  detail: Record<string, number | string>;
}

/** One attack. `recover` never mutates the update; it may throw FedtlError on an update it cannot read. */
export interface LeakageAttack {
  /** Short id used in report.json ('analytic', 'matching', 'sign'). */
  name: string;
  /** The attack and its paper, for report.md. */
  title: string;
  recover(observed: ObservedUpdate): Promise<AttackResult>;
}
