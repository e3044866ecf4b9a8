// The client's configuration, parsed and validated once at the edge (JSON file, FEDTL_* env, flags).
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readUserTextSync } from '@fedtl/data';
import { assertPrivacyPolicy, PERMISSIVE_POLICY, type PrivacyPolicy } from '@fedtl/privacy';
import { FedtlError, configError, isLogLevel, parseInteger, parsePositiveNumber, redactUrl, type LogLevel } from '@fedtl/util';

/** Ten minutes without a session with the coordinator, then the client gives up. */
export const DEFAULT_GIVE_UP_AFTER_MS = 600_000;

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
 * Defaults of --adapt-only, those of the few-shot benchmark (chosen on validation slices, docs/results/few-shot):
 * 10 full-batch SGD steps; the step size is the run's Per-FedAvg α when the checkpoint records one, and otherwise
 * 0.01, the best step size from FedAvg's weights (larger ones undo what the federation learned).
 */
export const ADAPT_ONLY_DEFAULTS = { steps: 10, maxSteps: 100_000, learningRate: 0.01, optimizer: 'sgd' } as const;

/** The δ of --dp-epsilon, and of the ε logged after each round, unless --dp-delta says otherwise. */
export const DEFAULT_DP_DELTA = 1e-5;
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
  logFormat: 'pretty' | 'json';
  /** What this client accepts from the coordinator, checked locally on every plan (default: every plan). */
  privacyPolicy: PrivacyPolicy;
  differentialPrivacy: DifferentialPrivacyOptions;
  /** Present: adapt a published model locally and exit; no coordinator is contacted. */
  adaptOnly?: AdaptOnlyOptions;
}

export const USAGE = `Usage: npm run client -- --coordinator URL --client-id ID [data] [options]
       npm run client -- --adapt-only --init-from CHECKPOINT|RUN-DIR [data] [options]

Data (one of):
  --data FILE                your labelled text: .jsonl, .csv or .tsv
    --test-data FILE         held-out test file (otherwise --test-fraction of FILE, stratified; default 0.2)
    --text-field NAME        field/column with the text (default text); --label-field NAME (default label)
  --demo-mailbox K           mailbox K (1-based) of the SpamAssassin demo organisations shipped with npm
    --demo-organisations N   how many organisations the demo corpus is split into (default 3)
    --demo-per-organisation N  e-mails per organisation (default 300)
  --features FILE            precomputed feature vectors (JSON; use with --backbone precomputed:DIM)

Options:
  --token-file FILE          file holding the federation's shared secret (or env FEDTL_TOKEN; --token SECRET
                             works but is visible in the process list)
  --backbone SPEC            use-lite | tfjs-model:DIR | precomputed:DIM (must match the coordinator; default use-lite)
  --backend tensorflow|wasm|cpu   TF.js backend (default: the best one installed)
  --cache-dir DIR            feature cache, one per client process (default .fedtl-cache/CLIENT-ID)
  --embed-threads N          worker threads for embedding (default: one per core)
  --local-baseline-epochs N  also train a local-only model and report its accuracy (default 0: off)
  --personalize-epochs N     also report a personalised model: the global one with its head fine-tuned
                             locally for N epochs (default 0: off)
  --train-limit N            train on at most N labelled examples, stratified by label (default: all)
  --seed N                   seed for the local baseline, the test split and --train-limit (default 7)
  --tls-ca FILE              CA certificate for a coordinator with a self-signed certificate
  --tls-cert FILE --tls-key FILE   client certificate for mutual TLS
  --ack-timeout-ms MS        how long to wait for the coordinator to acknowledge (default 60000)
  --give-up-after-ms MS      stop with FEDTL_ERR_UNREACHABLE (exit 3) after this long without a session with the
                             coordinator, counted from the last time it was joined or from start (default 600000)

Privacy policy (stated at Join and checked by this client on every round plan; a plan it refuses is answered
with FEDTL_ERR_POLICY_REFUSED and not trained on; a run this policy can never accept, e.g. one without secure
aggregation under --require-secure-aggregation or --min-other-contributors, is left at once, exit 2):
  --require-secure-aggregation   send updates only masked, under secure aggregation (secagg/v1)
  --min-other-contributors K     only in sums of at least K other clients' updates: the round's threshold t must
                                 be at least K + 1 (default 0; above 0 implies --require-secure-aggregation)
  --min-examples N           only send updates computed from at least N local training examples (default 1)
  --min-batch-size B         refuse plans with a batch size below B (default 1)
  --max-rounds R             send an update in at most R rounds of a run (default 0: no cap)

Differential privacy (this client trains by DP-SGD, or clips and noises its update by DP-FedAvg, whenever a plan
says so; these flags keep account of what DP-SGD spends on this organisation's data and cap it):
  --dp-epsilon E             budget: refuse (FEDTL_ERR_PRIVACY_BUDGET) a plan that would take the ledger over
                             ε = E at --dp-delta, and any plan without DP-SGD or without noise (ε = ∞)
  --dp-delta D               the δ of the budget and of the ε logged after each round, in (0, 0.01) (default ${DEFAULT_DP_DELTA.toExponential()})
  --dp-ledger FILE           what DP-SGD has spent on this data, kept across runs and written before each update
                             leaves (default CACHE-DIR/privacy-ledger-CLIENT-ID.json); use the same file for every
                             run on the same data, whatever its client id. A corrupt ledger stops the client (exit 2)
  Only training is protected: evaluation metrics (with those of --local-baseline-epochs and
  --personalize-epochs) are sent as they are. The budget is checked plan by plan (a run's terms come per plan).

Adapting a published model to this client's domain, sending nothing (no --coordinator; --client-id optional):
  --adapt-only               read the global weights from --init-from, take --steps full-batch gradient steps on
                             the labelled examples (--data, with --train-limit K for a K-shot draw), print the
                             test accuracy before and after, and exit 0; no connection is opened
  --init-from PATH           a checkpoint file (round-NNNNNN.ckpt) or a coordinator's run directory (its newest)
  --steps S                  gradient steps (default ${ADAPT_ONLY_DEFAULTS.steps}, at most ${ADAPT_ONLY_DEFAULTS.maxSteps})
  --adapt-learning-rate A    step size (default: the run's Per-FedAvg α, recorded in its checkpoints; for a run
                             of another strategy ${ADAPT_ONLY_DEFAULTS.learningRate})
  --adapt-optimizer sgd|adam (default sgd, the kind of step Per-FedAvg meta-learns for)
  --save-adapted FILE        write the adapted weights to FILE, a new file (a checkpoint; --init-from reads it)
  Only the data, backbone, backend, cache, seed and log options apply with --adapt-only.

Logs and files:
  --log-level debug|info|warn|error   --log-format pretty|json
  --config FILE              JSON file with any of the above (camelCase keys)

Exit status: 0 the run finished; 1 the run failed (its cause is printed) or this client failed; 2 refused by
the coordinator or by its own privacy policy, or misconfigured (flags, a URL with a path, an untrusted
certificate); 3 the coordinator stayed unreachable; 130/143 stopped by SIGINT/SIGTERM.
`;

const FLAGS = {
  config: { type: 'string' },
  coordinator: { type: 'string' },
  'client-id': { type: 'string' },
  token: { type: 'string' },
  'token-file': { type: 'string' },
  data: { type: 'string' },
  'test-data': { type: 'string' },
  'test-fraction': { type: 'string' },
  'text-field': { type: 'string' },
  'label-field': { type: 'string' },
  'demo-mailbox': { type: 'string' },
  'demo-organisations': { type: 'string' },
  'demo-per-organisation': { type: 'string' },
  features: { type: 'string' },
  backbone: { type: 'string' },
  backend: { type: 'string' },
  'cache-dir': { type: 'string' },
  'embed-threads': { type: 'string' },
  'local-baseline-epochs': { type: 'string' },
  'personalize-epochs': { type: 'string' },
  'train-limit': { type: 'string' },
  seed: { type: 'string' },
  'tls-ca': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'ack-timeout-ms': { type: 'string' },
  'give-up-after-ms': { type: 'string' },
  'log-level': { type: 'string' },
  'log-format': { type: 'string' },
  'require-secure-aggregation': { type: 'boolean' },
  'min-other-contributors': { type: 'string' },
  'min-examples': { type: 'string' },
  'min-batch-size': { type: 'string' },
  'max-rounds': { type: 'string' },
  'dp-epsilon': { type: 'string' },
  'dp-delta': { type: 'string' },
  'dp-ledger': { type: 'string' },
  'adapt-only': { type: 'boolean' },
  'init-from': { type: 'string' },
  steps: { type: 'string' },
  'adapt-learning-rate': { type: 'string' },
  'adapt-optimizer': { type: 'string' },
  'save-adapted': { type: 'string' },
  help: { type: 'boolean' },
} as const;

type Flags = { [K in keyof typeof FLAGS]?: (typeof FLAGS)[K]['type'] extends 'boolean' ? boolean | string : string };

function fail(name: string, expected: string, got: unknown): never {
  throw configError(name, expected, got);
}

/**
 * Socket.IO would take a URL's path as a namespace the coordinator does not have (a dashboard address such as
 * …/api/status pasted by mistake): refused here, naming the URL to use instead.
 */
function checkNoPath(coordinator: string): void {
  let url: URL;
  try {
    url = new URL(coordinator);
  } catch {
    fail('--coordinator', 'a URL such as http://127.0.0.1:8080', coordinator);
  }
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
    fail('--coordinator', `a URL without a path, such as ${url.protocol}//${url.host}`, redactUrl(coordinator));
  }
}

/**
 * The privacy policy of the --require-secure-aggregation, --min-other-contributors, --min-examples,
 * --min-batch-size and --max-rounds flags (a --config file may give the first as true or false). Throws
 * FEDTL_ERR_BAD_CONFIG naming the flag, what it takes and what it got.
 */
function parsePrivacyPolicy(v: Flags): PrivacyPolicy {
  const required = v['require-secure-aggregation'];
  if (required !== undefined && required !== true && required !== 'true' && required !== 'false') {
    fail('--require-secure-aggregation', 'no value on the command line, or true|false in a --config file', required);
  }
  const integer = (flag: 'min-other-contributors' | 'min-examples' | 'min-batch-size' | 'max-rounds', least: number, fallback: number): number => {
    const value = v[flag];
    return value === undefined ? fallback : parseInteger(`--${flag}`, value, least);
  };
  const policy: PrivacyPolicy = {
    requireSecureAggregation: required === true || required === 'true',
    minOtherContributors: integer('min-other-contributors', 0, PERMISSIVE_POLICY.minOtherContributors),
    minExamples: integer('min-examples', 1, PERMISSIVE_POLICY.minExamples),
    minBatchSize: integer('min-batch-size', 1, PERMISSIVE_POLICY.minBatchSize),
    maxRounds: integer('max-rounds', 0, PERMISSIVE_POLICY.maxRounds),
  };
  assertPrivacyPolicy(policy);
  return policy;
}

export function parseClientConfig(argv: string[], env: NodeJS.ProcessEnv = {}): ClientConfig | 'help' {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: FLAGS, strict: true, allowPositionals: false }));
  } catch (err) {
    // node:util's own errors (an unknown option, a missing or dash-led value) as a configuration error, not a crash.
    throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `command line: ${(err as Error).message} (see --help)`);
  }
  if (values.help) return 'help';
  let v: Flags = values;
  if (values.config) {
    let fromFile: Record<string, unknown>;
    try {
      fromFile = JSON.parse(readUserTextSync(values.config));
    } catch (err) {
      if (err instanceof FedtlError) throw err;
      fail('--config', 'a readable JSON file', `${values.config} (${(err as Error).message})`);
    }
    // camelCase keys in the file map onto the kebab-case flags; flags given on the command line win.
    const asFlags = Object.fromEntries(Object.entries(fromFile).map(([key, value]) => [key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase()), String(value)]));
    v = { ...asFlags, ...values };
  }
  const adaptOnly = parseAdaptOnly(v);
  const coordinator = adaptOnly ? '' : (v.coordinator ?? env.FEDTL_COORDINATOR);
  if (adaptOnly && v.coordinator !== undefined) fail('--coordinator', 'no coordinator with --adapt-only (it opens no connection)', redactUrl(v.coordinator));
  if (!adaptOnly) {
    if (!coordinator || !/^(https?|wss?):\/\//.test(coordinator)) fail('--coordinator', 'a URL such as http://127.0.0.1:8080 or https://coordinator.example:8443', coordinator && redactUrl(coordinator));
    checkNoPath(coordinator);
  }
  const clientId = v['client-id'] ?? env.FEDTL_CLIENT_ID ?? (adaptOnly ? 'adapt-only' : undefined);
  if (!clientId || !/^[A-Za-z0-9._-]{1,64}$/.test(clientId)) fail('--client-id', '1-64 letters, digits, ".", "_" or "-"', clientId);
  // "." and ".." name directories: the default cache dir (.fedtl-cache/ID) would be the cache root or its parent.
  if (/^\.+$/.test(clientId)) fail('--client-id', '1-64 letters, digits, ".", "_" or "-", not only dots', clientId);

  const sources = [v.data, v['demo-mailbox'], v.features].filter((s) => s !== undefined);
  if (sources.length !== 1) fail('data', 'exactly one of --data, --demo-mailbox, --features', sources);
  let data: DataSource;
  if (v.data !== undefined) {
    const testFraction = v['test-fraction'] === undefined ? 0.2 : Number(v['test-fraction']);
    if (!(testFraction > 0 && testFraction < 1)) fail('--test-fraction', 'a number in (0, 1)', v['test-fraction']);
    data = { kind: 'file', train: v.data, test: v['test-data'], textField: v['text-field'] ?? 'text', labelField: v['label-field'] ?? 'label', testFraction };
  } else if (v['demo-mailbox'] !== undefined) {
    const organisations = v['demo-organisations'] === undefined ? 3 : parseInteger('--demo-organisations', v['demo-organisations'], 1);
    const organisation = parseInteger('--demo-mailbox', v['demo-mailbox'], 1);
    if (organisation > organisations) fail('--demo-mailbox', `a mailbox number in [1, ${organisations}]`, organisation);
    const perOrganisation = v['demo-per-organisation'] === undefined ? 300 : parseInteger('--demo-per-organisation', v['demo-per-organisation'], 10);
    data = { kind: 'demo-mailbox', organisation, organisations, perOrganisation };
  } else {
    data = { kind: 'precomputed', path: v.features as string };
  }
  if (v.token !== undefined && v['token-file'] !== undefined) fail('--token/--token-file', 'one of them', 'both');
  let token = v.token ?? env.FEDTL_TOKEN ?? '';
  if (v['token-file'] !== undefined) {
    try {
      token = readUserTextSync(v['token-file']).replace(/\r?\n$/, '');
    } catch (err) {
      fail('--token-file', 'a readable file holding the secret', `${v['token-file']} (${(err as Error).message})`);
    }
  }
  const warnings = values.token !== undefined ? ['--token on the command line is visible to every user of this machine (ps); use --token-file FILE or FEDTL_TOKEN'] : [];
  const backend = v.backend;
  if (backend !== undefined && !['tensorflow', 'wasm', 'cpu'].includes(backend)) fail('--backend', 'tensorflow|wasm|cpu', backend);
  const logLevel = v['log-level'] ?? 'info';
  if (!isLogLevel(logLevel)) fail('--log-level', 'debug|info|warn|error|silent', logLevel);
  const logFormat = v['log-format'] ?? 'pretty';
  if (logFormat !== 'pretty' && logFormat !== 'json') fail('--log-format', 'pretty|json', logFormat);
  if (Boolean(v['tls-cert']) !== Boolean(v['tls-key'])) fail('--tls-cert/--tls-key', 'both or neither', { cert: v['tls-cert'], key: v['tls-key'] });
  // One directory per client by default: a cache has one writer, and two clients may share a machine.
  const cacheDir = v['cache-dir'] ?? join('.fedtl-cache', clientId);
  return {
    coordinator: coordinator ?? '',
    clientId,
    token,
    warnings,
    data,
    backbone: v.backbone ?? 'use-lite',
    backend: backend as ClientConfig['backend'],
    cacheDir,
    embedThreads: v['embed-threads'] === undefined ? 0 : parseInteger('--embed-threads', v['embed-threads'], 1),
    localBaselineEpochs: v['local-baseline-epochs'] === undefined ? 0 : parseInteger('--local-baseline-epochs', v['local-baseline-epochs'], 0),
    personalizeEpochs: v['personalize-epochs'] === undefined ? 0 : parseInteger('--personalize-epochs', v['personalize-epochs'], 0),
    trainLimit: v['train-limit'] === undefined ? 0 : parseInteger('--train-limit', v['train-limit'], 1),
    seed: v.seed === undefined ? 7 : parseInteger('--seed', v.seed, 0),
    tlsCa: v['tls-ca'],
    tlsCert: v['tls-cert'],
    tlsKey: v['tls-key'],
    ackTimeoutMs: v['ack-timeout-ms'] === undefined ? 60_000 : parseInteger('--ack-timeout-ms', v['ack-timeout-ms'], 1),
    giveUpAfterMs: v['give-up-after-ms'] === undefined ? DEFAULT_GIVE_UP_AFTER_MS : parseInteger('--give-up-after-ms', v['give-up-after-ms'], 1),
    logLevel,
    logFormat,
    privacyPolicy: parsePrivacyPolicy(v),
    differentialPrivacy: parseDifferentialPrivacy(v, cacheDir, clientId),
    ...(adaptOnly ? { adaptOnly } : {}),
  };
}

/** --dp-epsilon, --dp-delta and --dp-ledger (default: defaultLedgerFile). */
function parseDifferentialPrivacy(v: Flags, cacheDir: string, clientId: string): DifferentialPrivacyOptions {
  const epsilon = v['dp-epsilon'] === undefined ? undefined : parsePositiveNumber('--dp-epsilon', v['dp-epsilon']);
  const delta = v['dp-delta'] === undefined ? DEFAULT_DP_DELTA : Number(v['dp-delta']);
  // Above 1 / n a mechanism may publish a record in the clear and still be (ε, δ)-DP: 0.01 is far beyond sensible.
  if (!(delta > 0 && delta < 0.01)) fail('--dp-delta', 'a number in (0, 0.01), e.g. 1e-5 (well below 1 / your training examples)', v['dp-delta']);
  const ledger = v['dp-ledger'] ?? defaultLedgerFile(cacheDir, clientId);
  if (ledger === '') fail('--dp-ledger', 'a file name', ledger);
  return { ...(epsilon !== undefined ? { epsilon } : {}), delta, ledger };
}

/** What only a client that joins a federation uses (--coordinator is refused with its own message). */
const FEDERATION_ONLY_FLAGS = [
  'token', 'token-file', 'tls-ca', 'tls-cert', 'tls-key', 'ack-timeout-ms', 'give-up-after-ms', 'local-baseline-epochs', 'personalize-epochs',
  'require-secure-aggregation', 'min-other-contributors', 'min-examples', 'min-batch-size', 'max-rounds',
  'dp-epsilon', 'dp-delta', 'dp-ledger',
] as const;

/**
 * The --adapt-only options, or undefined without --adapt-only (whose own flags are then refused: they would be
 * silently ignored by a client that joins a federation).
 */
function parseAdaptOnly(v: Flags): AdaptOnlyOptions | undefined {
  const on = v['adapt-only'];
  if (on !== undefined && on !== true && on !== 'true' && on !== 'false') fail('--adapt-only', 'no value on the command line, or true|false in a --config file', on);
  if (on !== true && on !== 'true') {
    for (const flag of ['init-from', 'steps', 'adapt-learning-rate', 'adapt-optimizer', 'save-adapted'] as const) {
      if (v[flag] !== undefined) fail(`--${flag}`, '--adapt-only (the only mode that takes it)', v[flag]);
    }
    return undefined;
  }
  // Options of a federated client would be silently ignored: refused, as the adapt flags are without --adapt-only.
  for (const flag of FEDERATION_ONLY_FLAGS) {
    if (v[flag] !== undefined) fail(`--${flag}`, 'no federation option with --adapt-only (it joins no federation)', v[flag]);
  }
  const initFrom = v['init-from'];
  if (!initFrom) fail('--init-from', 'a checkpoint file or run directory with --adapt-only', initFrom);
  const optimizer = v['adapt-optimizer'] ?? ADAPT_ONLY_DEFAULTS.optimizer;
  if (optimizer !== 'sgd' && optimizer !== 'adam') fail('--adapt-optimizer', 'sgd|adam', optimizer);
  return {
    initFrom,
    steps: v.steps === undefined ? ADAPT_ONLY_DEFAULTS.steps : parseInteger('--steps', v.steps, 1, ADAPT_ONLY_DEFAULTS.maxSteps),
    ...(v['adapt-learning-rate'] !== undefined ? { learningRate: parsePositiveNumber('--adapt-learning-rate', v['adapt-learning-rate']) } : {}),
    optimizer,
    ...(v['save-adapted'] !== undefined ? { saveTo: v['save-adapted'] } : {}),
  };
}
