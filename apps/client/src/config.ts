// The client's configuration: its options (client-options.ts, one declaration each, merged from flags, FEDTL_*
// environment variables, a --config file and defaults) turned into the plain values everything below receives,
// with the checks that involve several options at once: one data source, the two modes (joining a federation or
// --adapt-only) and the options each takes, the token given two ways, the coordinator's URL.
import { join } from 'node:path';
import { readSecretFile, readUserTextSync } from '@fedtl/data';
import type { PrivacyPolicy } from '@fedtl/privacy';
import { configError, redactUrl, type LogFormat, type LogLevel } from '@fedtl/util';
import { flagName, isSetExplicitly, parseCommandLine, preferredOf, type ResolvedOptions } from '@fedtl/util/options';
import { CLIENT_OPTIONS } from './client-options';

export type DataSource =
  | { kind: 'file'; train: string; test?: string; textField: string; labelField: string; testFraction: number }
  | { kind: 'demo-mailbox'; organisation: number; organisations: number; perOrganisation: number }
  | { kind: 'precomputed'; path: string };

/** `--adapt-only`: adapt a published model locally instead of joining a federation (adapt-only.ts). */
export interface AdaptOnlyOptions {
  /** A checkpoint file or a coordinator's run directory. */
  initFrom: string;
  /** Full-batch gradient steps on the labelled examples. */
  steps: number;
  /** Absent: the run's Per-FedAvg α recorded in the checkpoint, else ADAPT_ONLY_DEFAULTS.learningRate. */
  learningRate?: number;
  optimizer: 'sgd' | 'adam';
  /** Where to write the adapted weights (a new checkpoint file); absent: not saved. */
  saveTo?: string;
}

/**
 * The default --dp-ledger: a file in the cache directory named after the client id, so that clients sharing one
 * cache directory (benches, simulations) never share a ledger.
 */
export function defaultLedgerFile(cacheDir: string, clientId: string): string {
  return join(cacheDir, `privacy-ledger-${clientId}.json`);
}

/** Record-level differential privacy on this client's data (PROTOCOL.md §7.1, apps/client/src/dp/). */
export interface DifferentialPrivacyOptions {
  /** --dp-epsilon: refuse plans that would take the ledger over ε at `delta`, and plans without DP-SGD. Absent: none. */
  epsilon?: number;
  delta: number;
  /** --dp-ledger: the file of what DP-SGD has spent on this data, across runs. */
  ledger: string;
}

export interface ClientConfig {
  /** The coordinator's URL; empty with adaptOnly, which contacts none. */
  coordinator: string;
  clientId: string;
  token: string;
  /** Things said once at start (e.g. a token visible in the process list); the config is valid. */
  warnings: string[];
  data: DataSource;
  backbone: string;
  backend?: 'tensorflow' | 'wasm' | 'cpu';
  cacheDir: string;
  /** Worker threads for embedding; 0: one per core. */
  embedThreads: number;
  /** Train a local-only model for this many epochs once, and report its accuracy next to the global model's. */
  localBaselineEpochs: number;
  /** After each global evaluation, fine-tune a private copy of the head this many epochs and report it too. */
  personalizeEpochs: number;
  /** Train on at most this many labelled examples (stratified, seeded): the low-resource regime. 0: all. */
  trainLimit: number;
  seed: number;
  /** PEM CA bundle that signs the coordinator's certificate (self-signed deployments). */
  tlsCa?: string;
  /** Client certificate and key, for coordinators that require mutual TLS. */
  tlsCert?: string;
  tlsKey?: string;
  ackTimeoutMs: number;
  /** Give up (FEDTL_ERR_UNREACHABLE, exit 3) after this long without a session with the coordinator, in ms. */
  giveUpAfterMs: number;
  logLevel: LogLevel;
  logFormat: LogFormat;
  /** What this client accepts from the coordinator, checked locally on every plan (default: every plan). */
  privacyPolicy: PrivacyPolicy;
  differentialPrivacy: DifferentialPrivacyOptions;
  /** Present: adapt a published model locally and exit; no coordinator is contacted. */
  adaptOnly?: AdaptOnlyOptions;
}

export type ClientOptions = ResolvedOptions<typeof CLIENT_OPTIONS>;
type ClientOptionKey = keyof typeof CLIENT_OPTIONS & string;

/** What only a client that joins a federation uses (--coordinator is refused with its own message). */
const FEDERATION_ONLY: readonly ClientOptionKey[] = [
  'token', 'tokenFile', 'tlsCa', 'tlsCert', 'tlsKey', 'ackTimeoutMs', 'giveUpAfterMs', 'localBaselineEpochs', 'personalizeEpochs',
  'requireSecureAggregation', 'minOtherContributors', 'minExamples', 'minBatchSize', 'maxRounds',
  'dpEpsilon', 'dpDelta', 'dpLedger',
];
/** What only --adapt-only uses. */
const ADAPT_ONLY: readonly ClientOptionKey[] = ['initFrom', 'steps', 'adaptLearningRate', 'adaptOptimizer', 'saveAdapted'];

function fail(name: string, expected: string, got: unknown): never {
  throw configError(name, expected, got);
}

/** The value of `key` when this run set it on purpose (isSetExplicitly: flag or file, not the default); else undefined. */
function asked(resolved: ClientOptions, key: ClientOptionKey): unknown {
  return isSetExplicitly(resolved, CLIENT_OPTIONS, key) ? resolved.values[key] : undefined;
}

/**
 * Socket.IO would take a URL's path as a namespace the coordinator does not have (a dashboard address such as
 * …/api/status pasted by mistake): refused here, naming the URL to use instead.
 */
function checkCoordinatorUrl(coordinator: string | undefined): string {
  if (!coordinator || !/^(https?|wss?):\/\//.test(coordinator)) {
    fail('--coordinator', 'a URL such as http://127.0.0.1:8080 or https://coordinator.example:8443', coordinator && redactUrl(coordinator));
  }
  let url: URL;
  try {
    url = new URL(coordinator);
  } catch {
    fail('--coordinator', 'a URL such as http://127.0.0.1:8080', redactUrl(coordinator));
  }
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
    fail('--coordinator', `a URL without a path, such as ${url.protocol}//${url.host}`, redactUrl(coordinator));
  }
  return coordinator;
}

/**
 * The --adapt-only options, or undefined without --adapt-only, whose own options are then refused (and with it the
 * federation's): each would be silently ignored by the mode that does not take it.
 */
function adaptOnlyOf(resolved: ClientOptions): AdaptOnlyOptions | undefined {
  const v = resolved.values;
  if (!v.adaptOnly) {
    for (const key of ADAPT_ONLY) {
      const value = asked(resolved, key);
      if (value !== undefined) fail(`--${flagName(key)}`, '--adapt-only (the only mode that takes it)', value);
    }
    return undefined;
  }
  const coordinator = asked(resolved, 'coordinator');
  if (coordinator !== undefined) fail('--coordinator', 'no coordinator with --adapt-only (it opens no connection)', redactUrl(coordinator as string));
  for (const key of FEDERATION_ONLY) {
    const value = asked(resolved, key);
    if (value !== undefined) fail(`--${flagName(key)}`, 'no federation option with --adapt-only (it joins no federation)', value);
  }
  if (v.initFrom === undefined) fail('--init-from', 'a checkpoint file or run directory with --adapt-only', v.initFrom);
  return {
    initFrom: v.initFrom,
    steps: v.steps,
    ...(v.adaptLearningRate !== undefined ? { learningRate: v.adaptLearningRate } : {}),
    optimizer: v.adaptOptimizer,
    ...(v.saveAdapted !== undefined ? { saveTo: v.saveAdapted } : {}),
  };
}

/** Where the examples come from: exactly one of --data, --demo-mailbox, --features. */
function dataSourceOf(v: ClientOptions['values']): DataSource {
  const given = ([['--data', v.data], ['--demo-mailbox', v.demoMailbox], ['--features', v.features]] as const).filter(([, value]) => value !== undefined);
  if (given.length !== 1) fail('data', 'exactly one of --data, --demo-mailbox, --features', given.map(([flag]) => flag));
  if (v.data !== undefined) {
    return { kind: 'file', train: v.data, test: v.testData, textField: v.textField, labelField: v.labelField, testFraction: v.testFraction };
  }
  if (v.demoMailbox !== undefined) {
    if (v.demoMailbox > v.demoOrganisations) fail('--demo-mailbox', `a mailbox number in [1, ${v.demoOrganisations}] (--demo-organisations)`, v.demoMailbox);
    return { kind: 'demo-mailbox', organisation: v.demoMailbox, organisations: v.demoOrganisations, perOrganisation: v.demoPerOrganisation };
  }
  return { kind: 'precomputed', path: v.features as string };
}

/**
 * The federation's token: --token, or the content of --token-file without its trailing newline; given both ways,
 * the one from the higher-precedence source (preferredOf refuses both from the same source).
 */
function tokenOf(resolved: ClientOptions): string {
  const which = preferredOf(resolved, 'token', 'tokenFile');
  if (which === undefined) return '';
  if (which === 'token') return resolved.values.token as string;
  return readSecretFile('--token-file', resolved.values.tokenFile as string);
}

/**
 * The client's configuration from its resolved options (fedtl client, after flags, environment, config file and
 * defaults are merged): the mode and its options, the data source, the token, and the checks that involve several
 * options at once.
 * @throws FedtlError FEDTL_ERR_BAD_CONFIG naming the option(s), what they need and what came.
 */
export function clientConfigFrom(resolved: ClientOptions): ClientConfig {
  const v = resolved.values;
  const adaptOnly = adaptOnlyOf(resolved);
  const coordinator = adaptOnly ? '' : checkCoordinatorUrl(v.coordinator);
  const clientId = v.clientId ?? (adaptOnly ? 'adapt-only' : undefined);
  if (!clientId || !/^[A-Za-z0-9._-]{1,64}$/.test(clientId)) fail('--client-id', '1-64 letters, digits, ".", "_" or "-"', clientId);
  // "." and ".." name directories: the default cache dir (.fedtl-cache/ID) would be the cache root or its parent.
  if (/^\.+$/.test(clientId)) fail('--client-id', '1-64 letters, digits, ".", "_" or "-", not only dots', clientId);
  const data = dataSourceOf(v);
  const token = adaptOnly ? '' : tokenOf(resolved);
  const warnings = resolved.sources.token === 'flag' && !adaptOnly ? ['--token on the command line is visible to every user of this machine (ps); use --token-file FILE or FEDTL_TOKEN'] : [];
  if (!adaptOnly && (v.tlsCert === undefined) !== (v.tlsKey === undefined)) fail('--tls-cert/--tls-key', 'both or neither', { cert: v.tlsCert, key: v.tlsKey });
  // One directory per client by default: a cache has one writer, and two clients may share a machine.
  const cacheDir = v.cacheDir ?? join('.fedtl-cache', clientId);
  return {
    coordinator,
    clientId,
    token,
    warnings,
    data,
    backbone: v.backbone,
    ...(v.backend !== undefined ? { backend: v.backend } : {}),
    cacheDir,
    embedThreads: v.embedThreads ?? 0,
    localBaselineEpochs: v.localBaselineEpochs,
    personalizeEpochs: v.personalizeEpochs,
    trainLimit: v.trainLimit ?? 0,
    seed: v.seed,
    ...(v.tlsCa !== undefined && !adaptOnly ? { tlsCa: v.tlsCa } : {}),
    ...(v.tlsCert !== undefined && !adaptOnly ? { tlsCert: v.tlsCert, tlsKey: v.tlsKey } : {}),
    ackTimeoutMs: v.ackTimeoutMs,
    giveUpAfterMs: v.giveUpAfterMs,
    logLevel: v.logLevel,
    logFormat: v.logFormat,
    privacyPolicy: {
      requireSecureAggregation: v.requireSecureAggregation,
      minOtherContributors: v.minOtherContributors,
      minExamples: v.minExamples,
      minBatchSize: v.minBatchSize,
      maxRounds: v.maxRounds,
    },
    differentialPrivacy: {
      ...(v.dpEpsilon !== undefined ? { epsilon: v.dpEpsilon } : {}),
      delta: v.dpDelta,
      ledger: v.dpLedger ?? defaultLedgerFile(cacheDir, clientId),
    },
    ...(adaptOnly ? { adaptOnly } : {}),
  };
}

/**
 * The configuration `fedtl client ARGV…` would run with in environment `env` (for tests and for entries that run
 * the client with injections; the command itself resolves through the same declarations).
 * @throws FedtlError FEDTL_ERR_BAD_CONFIG.
 */
export function parseClientConfig(argv: readonly string[], env: Record<string, string | undefined> = {}): ClientConfig {
  return clientConfigFrom(parseCommandLine(CLIENT_OPTIONS, argv, env, readUserTextSync));
}
