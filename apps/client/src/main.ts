// `npm run client -- …`: one organisation's client process.
import { readFileSync } from 'node:fs';
import { FedtlError, configureLogging, createLogger } from '@fedtl/util';
import { USAGE, parseClientConfig } from './config';
import { FederatedClient } from './federated-client';
import { loadLocalData } from './local-data';

async function main(): Promise<number> {
  const config = parseClientConfig(process.argv.slice(2), process.env);
  if (config === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  configureLogging({ level: config.logLevel, format: config.logFormat });
  const log = createLogger('client-main').child({ clientId: config.clientId });
  for (const warning of config.warnings) log.warn(warning);
  const data = await loadLocalData(config);
  const client = new FederatedClient({
    url: config.coordinator,
    clientId: config.clientId,
    token: config.token,
    data,
    backend: config.backend,
    ackTimeoutMs: config.ackTimeoutMs,
    localBaselineEpochs: config.localBaselineEpochs,
    personalizeEpochs: config.personalizeEpochs,
    seed: config.seed,
    tls: {
      ca: config.tlsCa ? readFileSync(config.tlsCa, 'utf8') : undefined,
      cert: config.tlsCert ? readFileSync(config.tlsCert, 'utf8') : undefined,
      key: config.tlsKey ? readFileSync(config.tlsKey, 'utf8') : undefined,
    },
  });
  const outcome = new Promise<number>((resolve) => {
    client.once('finished', () => resolve(0));
    client.once('refused', () => resolve(2));
    client.once('failed', () => resolve(1));
  });
  // 128 + the signal's number, as shells report a process that a signal stopped.
  const signalExitCodes = { SIGINT: 130, SIGTERM: 143 } as const;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log.info('stopping', { signal });
      void client.close();
      process.exit(signalExitCodes[signal]);
    });
  }
  client.start();
  const code = await outcome;
  await client.close();
  return code;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    const message = err instanceof FedtlError ? `${err.code}: ${err.message}` : (err as Error).stack ?? String(err);
    process.stderr.write(`fedtl client: ${message}\n`);
    process.exit(1);
  },
);
