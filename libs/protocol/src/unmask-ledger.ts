// What one client has helped unmask, per round and model state, across round attempts.
//
// A client's update is a deterministic function of the round's weights, config and its own data: a retried
// round (a later attempt, or the same round after a coordinator restart) asks for the same x_u. If a coordinator
// could unmask two attempts of one round whose survivor sets differ by one client c, it would subtract one sum
// from the other and hold x_c in the clear: secure aggregation's fresh keys per attempt do not prevent that. So
// an honest client helps unmask each (run, round, model state) for one survivor set only; a second attempt with
// the same survivors gives the same sum again (nothing new), any other set is refused.
import { createHash } from 'node:crypto';
import type { RoundPlan } from './domain';

/** Remembered model states at most: a client takes part in one run at a time, rounds go forward. */
const MAX_ENTRIES = 1024;

export class UnmaskLedger {
  private readonly survivorsByState = new Map<string, string>();

  /** The survivor set (sorted ids joined) this client already helped unmask for `state`, if any. */
  survivorsFor(state: string): string[] | undefined {
    const entry = this.survivorsByState.get(state);
    return entry === undefined ? undefined : JSON.parse(entry);
  }

  /** Records that this client revealed unmasking shares for `state` with `survivors` (sorted). */
  record(state: string, survivors: readonly string[]): void {
    this.survivorsByState.set(state, JSON.stringify(survivors));
    if (this.survivorsByState.size > MAX_ENTRIES) {
      const oldest = this.survivorsByState.keys().next().value as string;
      this.survivorsByState.delete(oldest);
    }
  }
}

/**
 * The model state a plan asks a client to train on: SHA-256 (hex) over the run id, the round, the training
 * config and every weight tensor (name, shape, bytes), without the secure-aggregation terms, which change with
 * each attempt while the client's update does not.
 */
export function roundStateDigest(plan: RoundPlan): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ runId: plan.runId, round: plan.round, config: plan.config }));
  for (const tensor of plan.weights) {
    hash.update(JSON.stringify({ name: tensor.name, shape: tensor.shape, dtype: tensor.dtype }));
    hash.update(new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength));
  }
  return hash.digest('hex');
}
