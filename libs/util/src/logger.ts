// Structured logging: one logger per module, fields such as `round` and `clientId` as data, not text.
// Libraries log through this; only apps decide where lines go and how verbose they are.
import { escapeControlChars } from './untrusted-text';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const LEVEL_ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export type LogFields = Record<string, unknown>;

export interface LogSink {
  write(line: string): void;
}

interface LoggerSettings {
  level: LogLevel;
  format: 'pretty' | 'json';
  sink: LogSink;
}

const settings: LoggerSettings = {
  level: 'info',
  format: 'pretty',
  sink: { write: (line) => process.stderr.write(line + '\n') },
};

/** Set once at an app's edge (from flags or config). */
export function configureLogging(options: Partial<Omit<LoggerSettings, 'format'>> & { format?: 'pretty' | 'json' | 'auto' }): void {
  Object.assign(settings, { ...options, format: options.format === 'auto' ? 'pretty' : options.format ?? settings.format });
}

/** The level and format set by the app, e.g. to hand them to a worker thread, which has its own logger. */
export function loggingSettings(): { level: LogLevel; format: 'pretty' | 'json' } {
  return { level: settings.level, format: settings.format };
}

export function isLogLevel(value: string): value is LogLevel {
  return Object.prototype.hasOwnProperty.call(LEVEL_ORDER, value);
}

export class Logger {
  constructor(
    readonly module: string,
    private readonly bound: LogFields = {},
  ) {}

  /** A logger that adds `fields` to every line, e.g. `log.child({ clientId })`. */
  child(fields: LogFields): Logger {
    return new Logger(this.module, { ...this.bound, ...fields });
  }

  debug(message: string, fields?: LogFields): void {
    this.log('debug', message, fields);
  }
  info(message: string, fields?: LogFields): void {
    this.log('info', message, fields);
  }
  warn(message: string, fields?: LogFields): void {
    this.log('warn', message, fields);
  }
  error(message: string, fields?: LogFields): void {
    this.log('error', message, fields);
  }

  private log(level: LogLevel, message: string, fields?: LogFields): void {
    if (LEVEL_ORDER[level] < LEVEL_ORDER[settings.level]) return;
    const all = { ...this.bound, ...fields };
    if (settings.format === 'json') {
      settings.sink.write(JSON.stringify({ time: new Date().toISOString(), level, module: this.module, msg: message, ...all }));
      return;
    }
    // One event, one line: a newline or a bidi override in a peer's text (a client id, an error message) must
    // not start a forged line or reorder this one, so the message and every field are escaped.
    const extras = Object.entries(all)
      .map(([key, value]) => `${escapeControlChars(key)}=${escapeControlChars(typeof value === 'string' ? value : String(JSON.stringify(value)))}`)
      .join(' ');
    const time = new Date().toISOString().slice(11, 23);
    settings.sink.write(`${time} ${level.padEnd(5)} [${this.module}] ${escapeControlChars(message)}${extras ? ' ' + extras : ''}`);
  }
}

export function createLogger(module: string): Logger {
  return new Logger(module);
}
