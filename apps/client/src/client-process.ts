// The client process around a FederatedClient: parse the flags, load the data, run one session and turn its
// outcome into the exit status (exit-codes.ts). `npm run client` is this with the flags it was given; a bench
// or test entry may hand the client options no flag can set (ClientInjections).
import { readFileSync } from 'node:fs';
import { describePolicy } from '@fedtl/privacy';
import { FedtlError, configureLogging, createLogger, withLogFields } from '@fedtl/util';
import { describeAdaptation, runAdaptOnly } from './adapt-only';
import { USAGE, parseClientConfig, type ClientConfig } from './config';
import { ClientPrivacyLedger } from './dp/client-privacy-ledger';
import { EXIT_CODES, describeOutcome, exitCodeFor, exitCodeForError, type ClientOutcome } from './exit-codes';
import { FederatedClient, type FederatedClientOptions } from './federated-client';
import { loadLocalData } from './local-data';

/** Options of FederatedClient that only code sets, never a flag (fault injection by benches and tests). */
export type ClientInjections = Pick<FederatedClientOptions, 'tamperUpdate'>;

/**
 * One client session configured by `argv` and `env` (the flags and FEDTL_* variables of `npm run client`).
 * Resolves with the process's exit status; rejects with a FedtlError for a configuration it cannot start with.
 */
export async function runClient(argv: string[], env: NodeJS.ProcessEnv, injections: ClientInjections = {}): Promise<number> {
  const config = parseClientConfig(argv, env);
  if (config === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  configureLogging({ level: config.logLevel, format: config.logFormat });
  if (config.adaptOnly) {
    process.stdout.write(describeAdaptation(await runAdaptOnly(config, config.adaptOnly)));
    return EXIT_CODES.finished;
  }
  // Every line of the session names this client, whichever module (data loading, the backbone) writes it.
  return withLogFields({ clientId: config.clientId }, () => runSession(config, injections));
}

/** The session runClient starts once logging is set up: data, FederatedClient, outcome → exit status. */
async function runSession(config: ClientConfig, injections: ClientInjections): Promise<number> {
  const log = createLogger('client-main');
  for (const warning of config.warnings) log.warn(warning);
  log.info('privacy policy', { policy: describePolicy(config.privacyPolicy) });
  // Read before anything else starts: a corrupt ledger is a configuration error (exit 2), never an empty one.
  const dp = config.differentialPrivacy;
  const privacyLedger = await ClientPrivacyLedger.open(dp.ledger, dp.delta, dp.epsilon !== undefined ? { epsilon: dp.epsilon, delta: dp.delta } : undefined);
  if (privacyLedger.events.length > 0 || dp.epsilon !== undefined) {
    const spent = privacyLedger.spent();
    log.info('differential privacy on this client\'s data', { epsilon: spent.epsilon, delta: spent.delta, rounds: spent.rounds, budget: dp.epsilon ?? 'none', ledger: dp.ledger });
  }
  const data = await loadLocalData(config);
  if (config.privacyPolicy.minExamples > data.train.labels.length) {
    // Known before connecting: every plan would be refused. A configuration error, exit 2.
    throw new FedtlError(
      'FEDTL_ERR_BAD_CONFIG',
      `--min-examples: expected at most this client's ${data.train.labels.length} training examples (its policy could never be met), got ${config.privacyPolicy.minExamples}`,
    );
  }
  if (data.test.labels.length === 0) {
    log.warn('no test examples: this client trains but cannot evaluate, and the coordinator will not ask it to', { train: data.train.labels.length });
  }
  const client = new FederatedClient({
    url: config.coordinator,
    clientId: config.clientId,
    token: config.token,
    data,
    backend: config.backend,
    ackTimeoutMs: config.ackTimeoutMs,
    giveUpAfterMs: config.giveUpAfterMs,
    localBaselineEpochs: config.localBaselineEpochs,
    personalizeEpochs: config.personalizeEpochs,
    seed: config.seed,
    privacyPolicy: config.privacyPolicy,
    privacyLedger,
    tls: {
      ca: config.tlsCa ? readFileSync(config.tlsCa, 'utf8') : undefined,
      cert: config.tlsCert ? readFileSync(config.tlsCert, 'utf8') : undefined,
      key: config.tlsKey ? readFileSync(config.tlsKey, 'utf8') : undefined,
    },
    ...injections,
  });
  const outcome = new Promise<ClientOutcome>((resolve) => {
    client.once('finished', (verdict) => resolve({ event: 'finished', verdict }));
    client.once('refused', (error) => resolve({ event: 'refused', error }));
    client.once('failed', (error) => resolve({ event: 'failed', error }));
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log.info('stopping', { signal });
      void client.close();
      process.exit(EXIT_CODES[signal]);
    });
  }
  client.start();
  const ended = await outcome;
  await client.close();
  const description = describeOutcome(ended);
  if (description) process.stderr.write(`fedtl client: ${description}\n`);
  return exitCodeFor(ended);
}

/** Runs `session` as this process's whole life: its result, or the error it threw, is the exit status. */
export function runAsClientProcess(session: () => Promise<number>): void {
  // Should the event loop ever run dry before an outcome (nothing left to wait on), that is no success.
  process.exitCode = EXIT_CODES.failed;
  process.once('beforeExit', () => process.stderr.write('fedtl client: stopped without an outcome (no verdict, refusal or failure)\n'));
  session().then(
    (code) => process.exit(code),
    (err) => {
      const message = err instanceof FedtlError ? `${err.code}: ${err.message}` : (err as Error).stack ?? String(err);
      process.stderr.write(`fedtl client: ${message}\n`);
      process.exit(err instanceof FedtlError ? exitCodeForError(err) : EXIT_CODES.failed);
    },
  );
}
