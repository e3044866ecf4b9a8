// One domains-family federation's options for tests: two review domains, FedAvg, no audit, the suite's defaults.
import { join } from 'node:path';
import { DOMAINS_DEFAULTS } from '../domains/domains-config';
import type { FederationOptions } from '../domains/federation-run';

/** Options of a one-round FedAvg federation of `books` and `kitchen` run in `runDir`, with `overrides` applied. */
export function sampleFederationOptions(runDir: string, overrides: Partial<FederationOptions> = {}): FederationOptions {
  return {
    runDir,
    clients: ['books', 'kitchen'].map((id) => ({ id, trainFile: `${id}.train.jsonl`, testFile: `${id}.test.jsonl` })),
    labels: ['negative', 'positive'],
    rounds: 1,
    seed: 7,
    backbone: 'use-lite',
    backend: 'cpu',
    cacheDir: join(runDir, 'cache'),
    model: DOMAINS_DEFAULTS.model,
    training: DOMAINS_DEFAULTS.training,
    strategy: { name: 'fedavg' },
    personalizeEpochs: 0,
    audit: false,
    secureAggregation: false,
    ...overrides,
  };
}
