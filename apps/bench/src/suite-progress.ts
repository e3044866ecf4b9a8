// A bench suite's progress over its units of work (federations, settings, configurations), drawn as a bar on a
// terminal only: "strategies [====----] 50% | 6/12 runs | ETA 14m03s | seed 2 fedprox".
import { createProgress, type Progress, type ProgressOptions } from '@fedtl/util';

export class SuiteProgress {
  private readonly bar: Progress;
  private done = 0;

  /**
   * `total` units of work counted as `unit` ('runs', 'seeds'); the bar shows at once, at 0. `output`: stream and
   * level as for createProgress (defaults: stderr and the app's log level).
   */
  constructor(
    suite: string,
    private readonly total: number,
    unit = 'runs',
    output: Pick<ProgressOptions, 'stream' | 'level'> = {},
  ) {
    this.bar = createProgress({ label: suite, unit, total, ...output });
    this.bar.update(0, total);
  }

  /** A unit begins: `what` is shown as the one running. */
  begin(what: string): void {
    this.bar.update(this.done, this.total, what);
  }

  /** A unit ended; the bar ends with the last one (a suite that fails exits the process, bar and all). */
  end(): void {
    this.done++;
    this.bar.update(this.done, this.total);
  }
}
