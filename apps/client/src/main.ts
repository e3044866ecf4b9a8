// `npm run client -- …`: one organisation's client process. Its exit status says how the run went
// (exit-codes.ts): 0 only when the coordinator's verdict is that the run finished.
import { readFileSync } from 'node:fs';
import { describePolicy } from '@fedtl/privacy';
import { FedtlError, configureLogging, createLogger } from '@fedtl/util';
import { describeAdaptation, runAdaptOnly } from './adapt-only';
import { USAGE, parseClientConfig } from './config';
import { EXIT_CODES, describeOutcome, exitCodeFor, exitCodeForError, type ClientOutcome } from './exit-codes';
import { FederatedClient } from './federated-client';
import { loadLocalData } from './local-data';

async function main(): Promise<number> {
  const config = parseClientConfig(process.argv.slice(2), process.env);
  if (config === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  configureLogging({ level: config.logLevel, format: config.logFormat });
  if (config.adaptOnly) {
    process.stdout.write(describeAdaptation(await runAdaptOnly(config, config.adaptOnly)));
    return EXIT_CODES.finished;
  }
  const log = createLogger('client-main').child({ clientId: config.clientId });
  for (const warning of config.warnings) log.warn(warning);
  log.info('privacy policy', { policy: describePolicy(config.privacyPolicy) });
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
    tls: {
      ca: config.tlsCa ? readFileSync(config.tlsCa, 'utf8') : undefined,
      cert: config.tlsCert ? readFileSync(config.tlsCert, 'utf8') : undefined,
      key: config.tlsKey ? readFileSync(config.tlsKey, 'utf8') : undefined,
    },
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

// Should the event loop ever run dry before an outcome (nothing left to wait on), that is no success.
process.exitCode = EXIT_CODES.failed;
process.once('beforeExit', () => process.stderr.write('fedtl client: stopped without an outcome (no verdict, refusal or failure)\n'));

main().then(
  (code) => process.exit(code),
  (err) => {
    const message = err instanceof FedtlError ? `${err.code}: ${err.message}` : (err as Error).stack ?? String(err);
    process.stderr.write(`fedtl client: ${message}\n`);
    process.exit(err instanceof FedtlError ? exitCodeForError(err) : EXIT_CODES.failed);
  },
);
