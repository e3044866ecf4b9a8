// Structured logging on pino: one logger per module, fields such as `round`, `clientId` and `runId` as data,
// not text. Libraries log through this and stay silent until an app calls configureLogging (as OpenTelemetry's
// `diag` does): only apps decide whether lines are written, where, and how verbose they are.
import { AsyncLocalStorage } from 'node:async_hooks';
import pino, { type Logger as PinoLogger } from 'pino';
import type * as PinoPretty from 'pino-pretty';
import { escapeControlChars } from './untrusted-text';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** 'pretty' for a person, 'json' (one object a line) for machines; 'auto' is pretty on a TTY stderr, JSON otherwise. */
export const LOG_FORMATS = ['auto', 'pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export type LogFields = Record<string, unknown>;

/** Where lines go: one call per event, `line` without its newline. */
export interface LogSink {
  write(line: string): void;
}

/** What configureLogging accepts; every part is optional and keeps its earlier value when left out. */
export interface LoggingOptions {
  level: LogLevel;
  format: LogFormat;
  /** Default: stderr. Tests pass their own to read the lines. */
  sink: LogSink;
  /** Fields on every line of this process or thread, e.g. a worker's parent's context (loggingSettings().fields). */
  fields: LogFields;
}

/** What a worker thread needs to log as its parent does: configureLogging(settings) in the thread. */
export interface LoggingSettings {
  level: LogLevel;
  format: 'pretty' | 'json';
  fields: LogFields;
}

/**
 * Field paths whose values never reach a log line, in either format (pino's `redact`): the shared and the
 * operator token, secrets and passwords, private and derived encryption keys, HTTP credentials — at the top
 * level and one level down (e.g. `config.token`, `headers.authorization`).
 */
export const REDACTED_PATHS: readonly string[] = [
  'token',
  'operatorToken',
  'secret',
  'password',
  'privateKey',
  'ownPrivateKey',
  'senderEncryptionKey',
  'recipientEncryptionKey',
  'authorization',
  'cookie',
].flatMap((key) => [key, `*.${key}`]);

/** What a redacted value is replaced by. */
export const REDACTED = '[redacted]';

const STDERR_SINK: LogSink = { write: (line) => process.stderr.write(line + '\n') };

const settings: LoggingOptions = { level: 'info', format: 'auto', sink: STDERR_SINK, fields: {} };
/** Undefined until an app calls configureLogging: libraries then write nothing. */
let root: PinoLogger | undefined;
/** Fields added by withLogFields to every line logged in its async context. */
const contextFields = new AsyncLocalStorage<LogFields>();
/** Bumped by every configureLogging, so loggers made before it rebuild their pino child. */
let generation = 0;

/**
 * Sets the level, format and sink (merged with the earlier settings) and turns logging on. Called once at an
 * app's edge from its flags or config; until then no logger writes anything.
 */
export function configureLogging(options: Partial<LoggingOptions>): void {
  Object.assign(settings, options);
  root = createRoot(settings.level, resolvedFormat(), settings.sink);
  generation++;
}

/**
 * The level and the format in effect (never 'auto': the TTY question answered here) and the fields of the
 * caller's context (withLogFields, e.g. the clientId), to hand to a worker thread, which has its own logger and
 * whose stderr is no TTY. Level 'silent' when no app configured logging, so the thread stays silent too.
 */
export function loggingSettings(): LoggingSettings {
  return { level: root ? settings.level : 'silent', format: resolvedFormat(), fields: { ...settings.fields, ...contextFields.getStore() } };
}

/**
 * Runs `fn` with `fields` (e.g. a coordinator's `{ runId }`) on every line logged within it, by any module and
 * in everything it starts: promises, timers, the server it opens and the connections that server accepts.
 * Nested calls add to the outer fields; a call's own fields and a child's bound ones take precedence.
 * Returns what `fn` returns.
 */
export function withLogFields<T>(fields: LogFields, fn: () => T): T {
  return contextFields.run({ ...contextFields.getStore(), ...fields }, fn);
}

/** True for the names --log-level accepts: debug, info, warn, error, silent. */
export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

/**
 * A module's logger: `info(message, fields)` and its siblings write one event (nothing until an app configured
 * logging, or below the configured level). Cheap to make at module load: the pino logger behind it is built on
 * first use and rebuilt after each configureLogging.
 */
export class Logger {
  private pinoLogger: PinoLogger | undefined;
  private builtFor = -1;

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

  /** One event; the context's, the bound and the call's fields merged (later ones win), so no key repeats. */
  private log(level: 'debug' | 'info' | 'warn' | 'error', message: string, fields?: LogFields): void {
    if (!root) return;
    if (this.builtFor !== generation) {
      this.pinoLogger = root.child({ module: this.module });
      this.builtFor = generation;
    }
    const logger = this.pinoLogger as PinoLogger;
    if (!logger.isLevelEnabled(level)) return;
    logger[level]({ ...settings.fields, ...contextFields.getStore(), ...this.bound, ...fields }, message);
  }
}

/** The logger of `module` (its lines' `module` field), e.g. `const log = createLogger('coordinator')`. */
export function createLogger(module: string): Logger {
  return new Logger(module);
}

function resolvedFormat(): 'pretty' | 'json' {
  if (settings.format !== 'auto') return settings.format;
  return settings.sink === STDERR_SINK && process.stderr.isTTY ? 'pretty' : 'json';
}

/** pino writing `{"level":"info","time":"<ISO>","module":…,…fields,"msg":…}` lines, or pretty ones, to `sink`. */
function createRoot(level: LogLevel, format: 'pretty' | 'json', sink: LogSink): PinoLogger {
  const toLine = format === 'json' ? (chunk: string) => chunk : prettyLines(sink === STDERR_SINK && process.stderr.isTTY === true);
  const destination = { write: (chunk: string) => sink.write(toLine(chunk).replace(/\n$/, '')) };
  return pino(
    {
      level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: [...REDACTED_PATHS], censor: REDACTED },
    },
    destination,
  );
}

/** The keys pino-pretty shows itself (level, time) or messageFormat places (module, msg): not repeated as fields. */
const OWN_KEYS = new Set(['level', 'time', 'module', 'msg']);

/**
 * pino-pretty, synchronously (prettyFactory, no transport thread): `[HH:MM:ss.l] LEVEL: [module] msg key=value …`,
 * one event per line. A newline or a bidi override in a peer's text (a client id, an error message) must not
 * start a forged line or reorder this one, so the message and every field are escaped.
 */
function prettyLines(colorize: boolean): (chunk: string) => string {
  // Required here rather than imported: only a process that logs for people needs pino-pretty, and every fedtl
  // command's start-up (even --help) loads this module.
  const { prettyFactory } = require('pino-pretty') as typeof PinoPretty;
  return prettyFactory({
    colorize,
    translateTime: 'HH:MM:ss.l',
    hideObject: true,
    errorLikeObjectKeys: [],
    ignore: 'module',
    messageFormat: (event) => {
      const extras = Object.entries(event)
        .filter(([key]) => !OWN_KEYS.has(key))
        .map(([key, value]) => `${escapeControlChars(key)}=${escapeControlChars(typeof value === 'string' ? value : String(JSON.stringify(value)))}`)
        .join(' ');
      return `[${escapeControlChars(String(event.module))}] ${escapeControlChars(String(event.msg))}${extras ? ' ' + extras : ''}`;
    },
  });
}
