// Progress bars for long work (embedding, local training, benchmark suites), drawn with cli-progress.
// Libraries only call an `onProgress(done, total)` callback; an app turns it into a bar here. A bar is drawn
// only on a terminal and at log level info or more verbose: in a file, a pipe or a CI log nothing is written,
// so no escape codes end up there.
//
// Log lines written to the terminal while a bar is drawn would land on the bar's line. So while a bar is
// active it wraps the `write` of its stream (and of stdout, on the same terminal): any other write first clears
// the bar's line, and the bar redraws itself below on its next tick. A logger that writes through those stream
// objects (the fedtl logger, console, a forwarded worker's stderr) is covered; one that writes to the file
// descriptor directly is not.
import type * as CliProgress from 'cli-progress';
import type { Options as BarOptions, Params as BarParams, SingleBar } from 'cli-progress';
import { loggingSettings, type LogLevel } from './logger';

/** A terminal (or not) to draw on: process.stderr, or a Writable with `isTTY` and `columns` in tests. */
export type ProgressStream = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

export interface ProgressOptions {
  /** Leads the line: 'embedding', 'training', 'strategies'. */
  label: string;
  /** What is counted: 'texts', 'steps', 'runs'. */
  unit: string;
  /** Known up front, or given with the first update. */
  total?: number;
  /** Also show `<rate> <unit>/s` (for many small units, such as texts). Default false. */
  rate?: boolean;
  /** Default process.stderr. */
  stream?: ProgressStream;
  /** Default the app's log level (loggingSettings()); above info, nothing is drawn. */
  level?: LogLevel;
  /**
   * Other streams that print on the same terminal, whose writes must clear the bar's line first too. Default:
   * process.stdout when the bar is on process.stderr and both are terminals (tables a suite prints, say).
   */
  sharedTerminal?: ProgressStream[];
}

export interface Progress {
  /**
   * `done` of `total` units; `detail` (e.g. 'epoch 2/5', the current run) is shown after the counts. Reaching
   * the total stops the bar.
   */
  update(done: number, total?: number, detail?: string): void;
  /** Draws the last state and ends the line; later updates are ignored. Safe to call twice. */
  stop(): void;
}

/**
 * cli-progress, required when a bar is first drawn rather than imported: every fedtl command's start-up (even
 * --help) loads this module, and most never draw a bar.
 */
function cliProgress(): typeof CliProgress {
  return require('cli-progress') as typeof CliProgress;
}

/** Redraws per second: enough to look live, few enough to cost nothing. */
const FPS = 5;
/** Carriage return, then erase the whole line (ECMA-48 EL 2). */
const CLEAR_LINE = '\r\x1b[2K';
const SAVE_CURSOR = '\x1b7';
const RESTORE_CURSOR = '\x1b8';

const NO_PROGRESS: Progress = { update: () => undefined, stop: () => undefined };
/** One bar per stream at a time: work started inside a drawn bar's work (a nested bar) stays quiet. */
const streamsWithBar = new WeakSet<ProgressStream>();

/**
 * A progress bar on `stream` when it is a terminal and the log level is info or debug, else a no-op. Call
 * `stop()` when the work fails (in a `finally`): until the bar stops, its redraw timer keeps the process alive
 * and the streams' `write` stay wrapped.
 */
export function createProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  const level = options.level ?? loggingSettings().level;
  if (stream.isTTY !== true || (level !== 'info' && level !== 'debug') || streamsWithBar.has(stream)) return NO_PROGRESS;
  const shared = options.sharedTerminal ?? (stream === process.stderr && process.stdout.isTTY ? [process.stdout] : []);
  return new TerminalProgress(stream, shared, options);
}

class TerminalProgress implements Progress {
  private readonly bar: SingleBar;
  /** Each wrapped stream and its own `write`, put back at stop(). */
  private readonly wrapped: Array<{ stream: ProgressStream; write: ProgressStream['write'] }>;
  private started?: { at: number; done: number };
  private stopped = false;
  /** The cursor is on the bar's line: another writer must clear it first. */
  private barOnLine = false;

  constructor(
    private readonly stream: ProgressStream,
    shared: ProgressStream[],
    private readonly options: ProgressOptions,
  ) {
    const write = stream.write.bind(stream) as (chunk: string) => boolean;
    // cli-progress draws through this view of the stream, so its own writes bypass the wrappers below. The view
    // drops cli-progress's save/restore-cursor pair: restoring at stop() would jump back to the row where the
    // bar began, which log lines written meanwhile have scrolled away, and the next output would overwrite them.
    const view = {
      isTTY: true,
      get columns() {
        return stream.columns;
      },
      write: (chunk: string) => {
        if (chunk === SAVE_CURSOR || chunk === RESTORE_CURSOR) return true;
        this.barOnLine = true;
        return write(chunk);
      },
    } as unknown as ProgressStream;
    const rate = options.rate ? ` | {rate} ${options.unit}/s` : '';
    const template = `${options.label} [{bar}] {percentage}% | {value}/{total} ${options.unit}${rate} | ETA {remaining}{detail}`;
    const { Format, SingleBar: Bar } = cliProgress();
    this.bar = new Bar({
      stream: view,
      // Rate and ETA are worked out at every draw, so the ETA keeps counting down while a long unit runs.
      format: (barOptions: BarOptions, params: BarParams, payload: { detail: string }) =>
        Format.Formatter({ ...barOptions, format: template }, params, { ...payload, ...this.pace(params.value, params.total, barOptions) }),
      barsize: 20,
      fps: FPS,
      // Cut the bar at the terminal's width rather than turning the terminal's line wrapping off for everyone.
      linewrap: true,
      // Redraw on every tick, also when nothing moved, so a bar cleared by a log line comes back.
      forceRedraw: true,
    });
    streamsWithBar.add(stream);
    this.wrapped = [stream, ...shared].map((target) => ({ stream: target, write: target.write }));
    for (const { stream: target, write: own } of this.wrapped) {
      target.write = ((...args: unknown[]) => {
        if (this.barOnLine) write(CLEAR_LINE);
        this.barOnLine = false;
        return (own as (...args: unknown[]) => boolean).apply(target, args);
      }) as ProgressStream['write'];
    }
  }

  update(done: number, total?: number, detail?: string): void {
    if (this.stopped) return;
    const payload = { detail: detail ? ` | ${detail}` : '' };
    if (!this.started) {
      // Work done before the first report (texts found in a cache) counts for neither the rate nor the ETA.
      this.started = { at: performance.now(), done };
      this.bar.start(total ?? this.options.total ?? done, done, payload);
    } else {
      if (total !== undefined && total !== this.bar.getTotal()) this.bar.setTotal(total);
      this.bar.update(done, payload);
    }
    if (done >= this.bar.getTotal()) this.stop();
  }

  /** Units per second since the first report, and the time left at that pace ('?' before any unit is done). */
  private pace(done: number, total: number, barOptions: BarOptions): { rate: string; remaining: string } {
    const since = this.started ?? { at: performance.now(), done };
    const seconds = (performance.now() - since.at) / 1000;
    const perSecond = seconds > 0 ? (done - since.done) / seconds : 0;
    const remaining = perSecond > 0 ? cliProgress().Format.TimeFormat(Math.round((total - done) / perSecond), barOptions, 1) : '?';
    return { rate: perSecond.toFixed(1), remaining };
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.bar.stop();
    for (const { stream, write } of this.wrapped) stream.write = write;
    streamsWithBar.delete(this.stream);
  }
}
