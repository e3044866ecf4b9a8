// `fedtl bench SUITE`: the project's experiments and benchmarks, one subcommand each. This module holds only their
// declarations and summaries (so `fedtl bench --help` and `fedtl bench SUITE --help` start fast); each suite's code
// is imported when it runs.
import type { CommandGroupSpec, CommandSpec, OptionDeclarations, ResolvedOptions } from '@fedtl/util/options';
import { AGGREGATE_OPTIONS } from './aggregate/aggregate-options';
import { CROSS_TASK_OPTIONS } from './cross-task/cross-task-options';
import { DEMO_TUNING_OPTIONS } from './demo-tuning/demo-tuning-options';
import { DOMAINS_OPTIONS } from './domains/domains-options';
import { EMBEDDING_SUITE_OPTIONS } from './embedding/embedding-options';
import { FEW_SHOT_OPTIONS } from './few-shot/few-shot-options';
import { LEAKAGE_OPTIONS } from './leakage/leakage-options';
import { LOAD_OPTIONS } from './load/load-options';
import { LORA_COST_OPTIONS } from './lora-cost/lora-cost-options';
import { PRIVACY_OPTIONS } from './privacy/privacy-options';
import { SECAGG_OPTIONS } from './secagg/secagg-options';
import { SIMULATE_OPTIONS } from './simulate/simulate-options';
import { STARTUP_OPTIONS } from './startup/startup-options';
import { STRATEGIES_OPTIONS } from './strategies/strategies-options';
import { WIRE_OPTIONS } from './wire/wire-options';

const EXIT_STATUS = `
Exit status: 0 the suite ran (performance targets are reported, met or not, and never change it); 1 it failed, or
a correctness check failed (a tensor left behind, a federation that did not finish); 2 a bad configuration;
130/143 stopped by SIGINT/SIGTERM (every coordinator and client it started is stopped too).`;

/**
 * Runs a suite: on SIGINT or SIGTERM, and when it fails, every coordinator and client process it started is
 * stopped, so none outlives the bench.
 */
async function runSuite(suite: () => Promise<number>): Promise<number> {
  const { stopAllApps } = await import('./workspace');
  const stop = (signal: NodeJS.Signals) => {
    stopAllApps();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    return await suite();
  } finally {
    stopAllApps();
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

/** One suite's subcommand; `run` imports the suite's module, so only a suite that runs loads its code. */
function suite<D extends OptionDeclarations>(name: string, summary: string, options: D, run: (resolved: ResolvedOptions<D>) => Promise<number>, epilogue = ''): CommandSpec<D> {
  return { name, summary, options, epilogue: epilogue ? `${epilogue}\n${EXIT_STATUS}` : EXIT_STATUS, run: (resolved) => runSuite(() => run(resolved)) };
}

export const BENCH_COMMANDS: CommandGroupSpec = {
  name: 'bench',
  summary: 'experiments and benchmarks: does federated transfer learning pay, what do privacy and robustness cost, how fast is it',
  commands: [
    suite('domains', 'does federated transfer learning beat training alone? methods × domains table and plots', DOMAINS_OPTIONS, async (resolved) =>
      (await import('./domains/domains-suite')).runDomainsSuite(resolved),
    `
Example:
  fedtl bench domains --data-dir ../shared/data/amazon-reviews --out docs/results/domains --labels-per-client 50,200,1600`),
    suite('cross-task', 'star ratings learned from --init-from a sentiment federation vs from scratch, 20/50/200 labels, 5 seeds', CROSS_TASK_OPTIONS, async (resolved) =>
      (await import('./cross-task/cross-task-suite')).runCrossTaskSuite(resolved),
    `
Per seed: a source federation (one client per domain) learns binary sentiment (the files' label field); then per
target budget two federations of the same organisations learn the star rating (the files' rating field, labels
"1","2","4","5"), one started with the coordinator's --init-from the source run, one from scratch.`),
    suite('demo-tuning', "the demo's settings (labelled budget, rounds, epochs, learning rate…) on a validation slice", DEMO_TUNING_OPTIONS, async (resolved) =>
      (await import('./demo-tuning/demo-tuning-suite')).runDemoTuningSuite(resolved),
    `
Simulates the demo's federation in this process for every combination of the lists and scores each organisation
on a validation slice of its training mail (local only, the global model, personalised).`),
    suite('embedding', 'texts per second of use-lite: naive, batched, length-bucketed, worker pool; wasm and cpu; GFLOP/s vs matmul', EMBEDDING_SUITE_OPTIONS, async (resolved) =>
      (await import('./embedding/embedding-suite')).runEmbeddingSuite(resolved),
    `
On the shared reviews (books.train.jsonl; the SpamAssassin mails without them), per backend in a worker thread of
its own: naive (one text per forward pass), batched (fixed batches in input order), bucketed (batches of similar
token counts) and the worker pool, repetitions interleaved; texts/s and the speedup over naive (medians). Then the
graph under tf.profile, the tokenizer alone, the model's FLOPs counted from its kernels and the backend's dense
matmul rate. Writes report.json and report.md under --out.

Example:
  fedtl bench embedding --out docs/results/embedding`),
    suite('lora-cost', 'what local training costs a client: texts/s and memory of LoRA inside use-lite vs frozen features, cached vs recomputed layers', LORA_COST_OPTIONS, async (resolved) =>
      (await import('./lora-cost/lora-cost-suite')).runLoraCostSuite(resolved),
    `
On the first --texts reviews of one domain, in this process on wasm, the same local training (adam, 0.003, batch
16) of four configurations: frozen (adapter + head on cached features), lora-layer1 (LoRA query,value in layer 1,
states entering it cached), lora-layer1-recompute (the same LoRA with layer 0 recomputed every step: the baseline)
and lora-layers01 (LoRA in layers 0 and 1). Per configuration: the cached part's seconds and MiB, training texts/s
(first and later epochs), ratios to the baseline and to frozen, RSS, tf.memory() and tensors left behind.
Writes report.json and report.md under --out.

Example:
  fedtl bench lora-cost --data-dir ../shared/data/amazon-reviews --out docs/results/lora-cost`),
    suite('load', 'the coordinator under load: N simulated clients over real sockets, at two model sizes', LOAD_OPTIONS, async (resolved) =>
      (await import('./load')).runLoadSuite(resolved),
    ),
    suite('leakage', "the leakage audit: feature vectors a coordinator recovers from one client's update, per protection", LEAKAGE_OPTIONS, async (resolved) =>
      (await import('./leakage/leakage-suite')).runLeakageSuite(resolved),
    `
Plays the coordinator: takes exactly what it receives from one client and recovers that client's feature vectors
with three attacks (analytic inversion of the first dense layer, gradient matching, the sign pattern under Adam).
Reports, per setting and attack, the cosine to the true vector and the top-1 rate at which the recovered vector
picks the true text out of a pool (its own + --others). Writes report.json and report.md.`),
    suite('secagg', 'secure aggregation vs plain FedAvg: seconds per round and bytes per client, 4/16/64 clients, dropouts', SECAGG_OPTIONS, async (resolved) =>
      (await import('./secagg/secagg-suite')).runSecAggSuite(resolved),
    `
Against the real coordinator process, N simulated clients over real sockets (real protocol, simulated training).`),
    suite('few-shot', 'a new domain adapts from k = 8/32/128 examples: Per-FedAvg vs FedAvg vs fresh initialisation', FEW_SHOT_OPTIONS, async (resolved) =>
      (await import('./few-shot/few-shot-suite')).runFewShotSuite(resolved),
    `
Each domain in turn is the new one: the other domains federate (one real client process each, a real
coordinator), once with --strategy fedavg and once with --strategy per-fedavg; then the new domain adapts from
k labelled examples with the same few full-batch SGD steps (the client's --adapt-only procedure) from (a) the
meta-learned (Per-FedAvg) weights, (b) the FedAvg weights and (c) a fresh adapter and head, and is scored on its
test file. Figures are means over domains, then mean ± sample std over seeds. The model and the clients' local
training are the domains bench's defaults.`),
    suite('strategies', 'every aggregation strategy over 5 seeds, the robust ones also with 1 of 4 clients attacking (sign flip)', STRATEGIES_OPTIONS, async (resolved) =>
      (await import('./strategies/strategies-suite')).runStrategiesSuite(resolved),
    `
Every aggregation strategy as a real federation (one client process per domain), over several seeds, and the
robust ones (plus fedavg) again with one client sending −S × its honest delta (scaled sign flip).`),
    suite('privacy', "DP's cost: record-level (DP-SGD) and client-level (DP-FedAvg) at ε = ∞/8/4/2, and its overhead per round", PRIVACY_OPTIONS, async (resolved) =>
      (await import('./privacy/privacy-suite')).runPrivacySuite(resolved),
    `
What differential privacy costs in accuracy, time and bytes: record-level DP-SGD in real federations (one client
process per domain), client-level DP-FedAvg over many clients simulated in this process, and the overhead of each
(and of DP with secure aggregation) against plain FedAvg, measured side by side.`),
    suite('simulate', 'many virtual clients on one machine against the real coordinator: 1,000 clients, 10 per round, by default', SIMULATE_OPTIONS, async (resolved) =>
      (await import('./simulate/simulate-suite')).runSimulateSuite(resolved),
    `
N virtual clients (one Socket.IO connection each, the real protocol) from this process against the real
coordinator process, which samples --clients-per-round of them per round (its --fraction-fit). Every text is
embedded once (the feature cache); each client holds only its rows of one shared feature matrix; a sampled
client's local training runs in a pool of worker threads (one per core, one adapter+head model each) with the
real client's training code. The global model is scored on the held-out test set after every round.

Example:
  fedtl bench simulate --data ../shared/data/amazon-reviews --clients 1000 --clients-per-round 10 --rounds 20 --partition dirichlet:0.5 --out docs/results/simulate`),
    suite('startup', 'how long `fedtl <command> --help` takes: the built bundle vs the sources under tsx', STARTUP_OPTIONS, async (resolved) => {
      const [{ runStartupSuite }, { benchCommand }] = await Promise.all([import('./startup/startup-suite'), import('./bench-command')]);
      return runStartupSuite(resolved.values, benchCommand('startup', STARTUP_OPTIONS, resolved));
    }),
    suite('wire', 'one Update of P floats client → coordinator: fedtl vs a JSON array over Socket.IO vs raw TCP, MB/s and ratios', WIRE_OPTIONS, async (resolved) => {
      const [{ runWireSuite }, { benchCommand }] = await Promise.all([import('./wire/wire-suite'), import('./bench-command')]);
      return runWireSuite(resolved.values, benchCommand('wire', WIRE_OPTIONS, resolved));
    },
    `
Client and server in this process over 127.0.0.1: (a) encodeUpdate + the client's emit-with-ack over Socket.IO +
decodeUpdate on a server configured as the coordinator's, (b) the values as a JSON array of numbers over the same
Socket.IO, (c) the same bytes over raw TCP; plus the passes of (a) timed alone against one plain copy. Medians of
interleaved repetitions; writes report.json and report.md under --out.`),
    suite('aggregate', "streaming aggregation of N updates of P floats (FedAvg) vs a plain multiply-add loop, MB/s and peak RSS", AGGREGATE_OPTIONS, async (resolved) => {
      const [{ runAggregateSuite }, { benchCommand }] = await Promise.all([import('./aggregate/aggregate-suite'), import('./bench-command')]);
      return runAggregateSuite(resolved.values, benchCommand('aggregate', AGGREGATE_OPTIONS, resolved));
    },
    `
Per case, N updates generated one at a time go through encodeUpdate/decodeUpdate into FedAvg's round aggregator
(the coordinator's streaming aggregation) and, in turn, into a plain Float64Array multiply-add loop (the ceiling).
Each case runs in a child process of its own (unless --in-process) so its peak RSS is its own. Writes report.json
and report.md under --out.`),
  ],
};
