// A one-line progress bar for long embedding runs. Apps pass it as `onProgress`; it draws only on a terminal
// (redirected output and CI logs stay clean) and at most ten times a second.

/** (items done, items in all). */
export type ProgressCallback = (done: number, total: number) => void;

export interface ProgressBarOptions {
  label?: string;
  /** Default process.stderr. */
  stream?: Pick<NodeJS.WriteStream, 'isTTY' | 'write'>;
  /** Characters of the bar itself; default 30. */
  width?: number;
  /** Clock in ms, for tests; default Date.now. */
  now?: () => number;
}

const REDRAW_MS = 100;

export function createProgressBar(options: ProgressBarOptions = {}): ProgressCallback {
  const { label = 'embedding', stream = process.stderr, width = 30, now = Date.now } = options;
  if (!stream.isTTY) return () => undefined;
  const started = now();
  let lastDraw = -Infinity;
  let finished = false;
  return (done, total) => {
    const complete = done >= total;
    const time = now();
    if (finished || (!complete && time - lastDraw < REDRAW_MS)) return;
    lastDraw = time;
    const fraction = total > 0 ? Math.min(done / total, 1) : 1;
    const filled = Math.round(fraction * width);
    const seconds = (time - started) / 1000;
    const rate = seconds > 0 ? `${(done / seconds).toFixed(1)}/s` : '';
    const bar = '#'.repeat(filled) + '.'.repeat(width - filled);
    stream.write(`\r${label} [${bar}] ${done}/${total} ${Math.floor(fraction * 100)}% ${rate}`.trimEnd() + (complete ? '\n' : ''));
    finished = complete;
  };
}
