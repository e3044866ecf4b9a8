// Test support: the structured log events a child process wrote (run with `--log-format json`), read back as
// data, so tests check fields (`round`, `clientId`, `runId`) rather than the wording of a pretty line.

/** One JSON log line: pino's `level` label, ISO `time`, `module`, `msg`, and the event's fields. */
export interface LogEvent {
  level: string;
  time: string;
  module: string;
  msg: string;
  [field: string]: unknown;
}

/**
 * The JSON log events in `output` (a process's stdout and stderr), in order. Lines that are not log events
 * (a CLI's plain error report, a result printed on stdout) are skipped.
 */
export function logEvents(output: string): LogEvent[] {
  const events: LogEvent[] = [];
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      continue;
    }
    if (isLogEvent(parsed)) events.push(parsed);
  }
  return events;
}

function isLogEvent(value: unknown): value is LogEvent {
  if (typeof value !== 'object' || value === null) return false;
  const event = value as Record<string, unknown>;
  return typeof event.level === 'string' && typeof event.msg === 'string' && typeof event.module === 'string';
}
