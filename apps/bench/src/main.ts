// `npm run bench -- <suite> …`: the project's experiments and benchmarks.
//   domains    the cross-domain table (local, centralized, fedavg, personalized, leave-one-out)
//   cross-task a federation learns star ratings from --init-from a sentiment federation vs from scratch
//   demo-tuning  the settings of `npm run demo`, chosen on a validation slice of each organisation's training mail
//   embedding  backbone throughput, one thread vs the worker pool
//   load       the coordinator under many clients (apps/bench/src/load, its own module tree)
//   leakage    the leakage audit: what a coordinator recovers of a client's data from what it receives
//   secagg     secure aggregation vs plain FedAvg: time per round and bytes per client, with dropouts
//   few-shot   a new domain adapting from k labelled examples: meta-learned vs FedAvg vs fresh initialisation
//   strategies every aggregation strategy over seeds, the robust ones also with one client attacking
//   privacy    what differential privacy costs: record-level and client-level DP at several ε, and its overhead
import { FedtlError } from '@fedtl/util';
import { runCrossTaskSuite } from './cross-task/cross-task-suite';
import { runDemoTuningSuite } from './demo-tuning/demo-tuning-suite';
import { runDomainsSuite } from './domains/domains-suite';
import { runEmbeddingSuite } from './embedding/embedding-suite';
import { runFewShotSuite } from './few-shot/few-shot-suite';
import { runLeakageSuite } from './leakage/leakage-suite';
import { runLoadSuite } from './load';
import { runPrivacySuite } from './privacy/privacy-suite';
import { runSecAggSuite } from './secagg/secagg-suite';
import { runStrategiesSuite } from './strategies/strategies-suite';
import { stopAllApps } from './workspace';

const USAGE = `Usage: npm run bench -- <suite> [options]   (npm run bench -- <suite> --help for its options)

  domains     does federated transfer learning beat training alone? methods x domains table and plots
  cross-task  star ratings learned from --init-from a sentiment federation vs from scratch, 20/50/200 labels, 5 seeds
  demo-tuning the demo's settings (labelled budget, rounds, epochs, learning rate…) on a validation slice
  embedding   sentences per second of the backbone, one thread vs the worker pool
  load        the coordinator under load
  leakage     the leakage audit: feature vectors a coordinator recovers from one client's update, per protection
  secagg      secure aggregation vs plain FedAvg: seconds per round and bytes per client, 4/16/64 clients, dropouts
  few-shot    a new domain adapts from k = 8/32/128 examples: Per-FedAvg vs FedAvg vs fresh initialisation
  strategies  every aggregation strategy over 5 seeds, the robust ones also with 1 of 4 clients attacking (sign flip)
  privacy     DP's cost: record-level (DP-SGD) and client-level (DP-FedAvg, 100 simulated clients) at ε = ∞/8/4/2,
              and seconds and bytes per round of each (and with secure aggregation) against plain FedAvg
`;

type Suite = (argv: string[]) => Promise<number>;

const SUITES: Record<string, Suite> = {
  domains: runDomainsSuite,
  'cross-task': runCrossTaskSuite,
  'demo-tuning': runDemoTuningSuite,
  embedding: runEmbeddingSuite,
  load: runLoadSuite,
  leakage: runLeakageSuite,
  secagg: runSecAggSuite,
  'few-shot': runFewShotSuite,
  strategies: runStrategiesSuite,
  privacy: runPrivacySuite,
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    process.stdout.write(USAGE);
    return name === undefined ? 2 : 0;
  }
  const suite = SUITES[name];
  if (!suite) throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `expected a suite (${Object.keys(SUITES).join(', ')}), got "${name}"`);
  return suite(rest);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    stopAllApps();
    process.exit(130);
  });
}

/** node:util parseArgs' own refusals (an unknown flag, a stray word, a dash-led value) are the user's to fix. */
function isParseArgsError(err: unknown): err is Error {
  const code = err instanceof Error ? (err as Error & { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    stopAllApps();
    // A configuration error exits 2 with one line, as the coordinator and the client do; anything else is a failure.
    if (isParseArgsError(err)) {
      process.stderr.write(`fedtl bench: FEDTL_ERR_BAD_CONFIG: command line: ${err.message.replace(/\s*\n\s*/g, " ")} (see --help)\n`);
      process.exit(2);
    }
    const message = err instanceof FedtlError ? `${err.code}: ${err.message}` : (err as Error).stack ?? String(err);
    process.stderr.write(`fedtl bench: ${message}\n`);
    process.exit(err instanceof FedtlError && err.code === 'FEDTL_ERR_BAD_CONFIG' ? 2 : 1);
  },
);
