// The client process around a FederatedClient: load the data, run one session and turn its outcome into the exit
// status (exit-codes.ts). `fedtl client` runs it with the configuration of its options (client-command.ts); a
// bench or test entry may hand the client options no flag can set (ClientInjections) through runClient.
import { readFileSync } from 'node:fs';
import { describePolicy } from '@fedtl/privacy';
import { FedtlError, configureLogging, createLogger, withLogFields } from '@fedtl/util';
import type { CommandIo } from '@fedtl/util/options';
import { describeAdaptation, runAdaptOnly } from './adapt-only';
import { parseClientConfig, type ClientConfig } from './config';
import { ClientPrivacyLedger } from './dp/client-privacy-ledger';
import { EXIT_CODES, describeOutcome, exitCodeFor, exitCodeForError, type ClientOutcome } from './exit-codes';
import { FederatedClient, type FederatedClientOptions } from './federated-client';
import { loadLocalData } from './local-data';

/** Options of FederatedClient that only code sets, never a flag (fault injection by benches and tests). */
export type ClientInjections = Pick<FederatedClientOptions, 'tamperUpdate'>;

/** This process's streams and environment, for a client run outside the `fedtl` program. */
const PROCESS_IO: CommandIo = {
  env: process.env,
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
};

/**
 * One client session configured as `fedtl client ARGV…` would be in environment `env`, with `injections`: the
 * entry of test and bench clients that are the real client plus something no flag sets (testing/sign-flip-main.ts).
 * Resolves with the process's exit status; rejects with a FedtlError for a configuration it cannot start with.
 */
export async function runClient(argv: readonly string[], env: Record<string, string | undefined>, injections: ClientInjections = {}): Promise<number> {
  return runClientProcess(parseClientConfig(argv, env), PROCESS_IO, injections);
}

/**
 * Runs the client `config` describes: --adapt-only, or one session with its coordinator. Resolves with the
 * process's exit status (exit-codes.ts); rejects with a FedtlError for a configuration it cannot start with (a
 * corrupt privacy ledger, a policy the data can never meet).
 */
export async function runClientProcess(config: ClientConfig, io: CommandIo, injections: ClientInjections = {}): Promise<number> {
  configureLogging({ level: config.logLevel, format: config.logFormat });
  if (config.adaptOnly) {
    io.stdout(describeAdaptation(await runAdaptOnly(config, config.adaptOnly)));
    return EXIT_CODES.finished;
  }
  // Every line of the session names this client, whichever module (data loading, the backbone) writes it.
  return withLogFields({ clientId: config.clientId }, () => runSession(config, io, injections));
}

/** The session runClient starts once logging is set up: data, FederatedClient, outcome → exit status. */
async function runSession(config: ClientConfig, io: CommandIo, injections: ClientInjections): Promise<number> {
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
  if (description) io.stderr(`fedtl client: ${description}\n`);
  return exitCodeFor(ended);
}

/**
 * Makes a client process that stops without an outcome fail: should the event loop ever run dry before the
 * session resolves (nothing left to wait on), the process exits 1 saying so, never 0.
 */
export function failWithoutOutcome(): void {
  process.exitCode = EXIT_CODES.failed;
  process.once('beforeExit', () => process.stderr.write('fedtl client: stopped without an outcome (no verdict, refusal or failure)\n'));
}

/**
 * Runs `session` as this process's whole life, outside the `fedtl` program (testing/sign-flip-main.ts): its
 * result, or the error it threw, is the exit status.
 */
export function runAsClientProcess(session: () => Promise<number>): void {
  failWithoutOutcome();
  session().then(
    (code) => process.exit(code),
    (err) => {
      const message = err instanceof FedtlError ? `${err.code}: ${err.message}` : (err as Error).stack ?? String(err);
      process.stderr.write(`fedtl client: ${message}\n`);
      process.exit(err instanceof FedtlError ? exitCodeForError(err) : EXIT_CODES.failed);
    },
  );
}
