// Readiness (/readyz), as against liveness (/healthz): whether this coordinator can run rounds now. A load
// balancer or Kubernetes sends no federation traffic to one that is not ready, and restarts only one that is not live.
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import type { RunEnd } from '@fedtl/protocol';

export interface ReadinessState {
  /** 'starting' before the server listens, 'closing' once close() began. */
  server: 'starting' | 'listening' | 'closing';
  /** The run's verdict, once sent: an ended run runs no more rounds (its dashboard still serves). */
  verdict?: RunEnd;
  /** The coordinator was stopped (its run abandoned, to be resumed by a restart). */
  stopped: boolean;
  /** Where each round's checkpoint is written: a round cannot complete unless it is writable. */
  checkpointsDir: string;
}

/** Undefined when ready; otherwise why not, in words for the 503 body. Never throws. */
export async function notReadyReason(state: ReadinessState): Promise<string | undefined> {
  if (state.server === 'starting') return 'starting: the server is not listening yet';
  if (state.server === 'closing') return 'shutting down: the server is closing';
  if (state.verdict) return `the run has ended (${state.verdict.status} after ${state.verdict.roundsCompleted} rounds): no more rounds will run`;
  if (state.stopped) return 'stopped: the run was abandoned and resumes after a restart';
  try {
    await access(state.checkpointsDir, constants.W_OK);
  } catch (err) {
    return `the checkpoints directory ${state.checkpointsDir} is not writable (${(err as NodeJS.ErrnoException).code ?? String(err)}): no round could be checkpointed`;
  }
  return undefined;
}
