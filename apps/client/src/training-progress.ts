// The progress bar of one round's local training, drawn by the client's main thread from the steps its
// training thread reports (a terminal only; nothing in a log).
import type { ProgressCallback } from '@fedtl/model';
import { createProgress, type ProgressOptions } from '@fedtl/util';

export interface TrainingProgress {
  /** Steps taken of all (over the local epochs), as LearnerThread.fit reports them. */
  onProgress: ProgressCallback;
  stop(): void;
}

/**
 * A bar "round <round> […] <done>/<total> steps | ETA … | epoch k/<localEpochs>". `stream` and `level` as for
 * createProgress (defaults: stderr and the app's log level).
 */
export function trainingProgress(round: number, localEpochs: number, options: Pick<ProgressOptions, 'stream' | 'level'> = {}): TrainingProgress {
  const bar = createProgress({ label: `round ${round}`, unit: 'steps', ...options });
  return {
    onProgress: (done, total) => {
      // Every epoch has the same number of steps, so the epoch follows from the share of steps taken.
      const epoch = Math.min(localEpochs, Math.max(1, Math.ceil((done * localEpochs) / total)));
      bar.update(done, total, `epoch ${epoch}/${localEpochs}`);
    },
    stop: () => bar.stop(),
  };
}
