// `bench demo-tuning`: chooses the settings of `npm run demo` (labelled budget per organisation, rounds, local
// epochs, learning rate, batch size, personalisation epochs) on a validation slice carved out of each
// organisation's training mail — never on the demo's test mail.
//
// Every setting is simulated in this process with the very code a client runs (trainLocally, evaluate) and the
// coordinator's strategy objects (FedAvg, FedAvgM, FedAdam from @fedtl/strategies), with the seeds the real processes use:
// initial weights from the coordinator's seed, round r's plan seed deriveSeed(seed, 'train', r), each client's
// shuffles deriveSeed(plan seed, client id); the local-only model and the personalised head as apps/client's
// Learner trains them (from the client's seed, for rounds x local epochs, the plan's learning rate and batch size).
// Draw 0 uses the demo's seeds (coordinator 42, client 7), so it predicts `npm run demo -- --validate` exactly;
// draws 1, 2… shift both seeds (another validation slice, another labelled sample, other initial weights and
// shuffles) to see how much of a difference is luck: the share of draws that meet a target estimates how likely
// one run on other mail (the demo's test mail) meets it. Round r of a federation does not depend on how many rounds follow it, so one run of the
// largest round count gives every smaller one.
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { spamAssassinMailboxes, stratifiedSample, validationMailbox, type LabelledText } from '@fedtl/data';
import { backboneRefFor, evaluate, initialWeights, selectBackend, trainLocally, type LabelledFeatures } from '@fedtl/model';
import type { ModelSpec, NamedTensor, TrainingConfig } from '@fedtl/protocol';
import { FedAdam, FedAvg, FedAvgM, applyDelta, type Strategy } from '@fedtl/strategies';
import { configError, configureLogging, createLogger, deriveSeed, type LogFormat, type LogLevel } from '@fedtl/util';
import type { OptionValues, ResolvedOptions } from '@fedtl/util/options';
import { benchCommand } from '../bench-command';
import { DEMO_TUNING_OPTIONS } from './demo-tuning-options';
import { describeMachine, machineInfo } from '../machine';
import { labelledFeatures } from '../domains/domain-data';
import { embedOnce } from '../domains/feature-store';
import { SuiteProgress } from '../suite-progress';

/** The demo's seeds and model: the coordinator's and the client's defaults. */
const COORDINATOR_SEED = 42;
const CLIENT_SEED = 7;
const MODEL = { adapterWidth: 64, head: 'linear', headHidden: 64 } as const;

export interface DemoTuningOptions {
  out: string;
  organisations: number;
  perOrganisation: number;
  validationFraction: number;
  budgets: number[];
  rounds: number[];
  localEpochs: number[];
  learningRates: number[];
  batchSizes: number[];
  personalizeEpochs: number[];
  strategies: string[];
  draws: number;
  fixedValidation: boolean;
  cacheDir: string;
  logLevel: LogLevel;
  logFormat: LogFormat;
}

/**
 * The suite's options from its resolved values, paths made absolute (relative ones from the working directory).
 * @throws FedtlError FEDTL_ERR_BAD_CONFIG naming --learning-rates for a rate that is not a number > 0, and
 *   --strategies for a strategy it cannot build.
 */
export function demoTuningOptionsFrom(v: OptionValues<typeof DEMO_TUNING_OPTIONS>): DemoTuningOptions {
  for (const spec of v.strategies) createStrategy(spec);
  return {
    out: resolve(v.out),
    organisations: v.organisations,
    perOrganisation: v.perOrganisation,
    validationFraction: v.validationFraction,
    budgets: v.budgets,
    rounds: v.rounds,
    localEpochs: v.localEpochs,
    learningRates: v.learningRates,
    batchSizes: v.batchSizes,
    personalizeEpochs: v.personalizeEpochs,
    strategies: v.strategies,
    draws: v.draws,
    fixedValidation: v.fixedValidation,
    cacheDir: resolve(v.cacheDir),
    logLevel: v.logLevel,
    logFormat: v.logFormat,
  };
}

/** One organisation's validation accuracy under one setting and draw. */
export interface OrganisationScore {
  local: number;
  /** The global model after the setting's last round. */
  global: number;
  /** Per personalisation epochs: the final global model with a private head fine-tuned that long. */
  personalised: Record<number, number>;
}

export interface SettingResult {
  strategy: string;
  budget: number;
  rounds: number;
  localEpochs: number;
  learningRate: number;
  batchSize: number;
  /** [draw][organisation]. */
  scores: OrganisationScore[][];
}

const log = createLogger('bench-demo-tuning');

interface Organisation {
  name: string;
  /** Per draw: the labelled sample the client trains on. */
  train: LabelledFeatures[];
  /** Per draw. */
  validation: LabelledFeatures[];
}

/** Runs the suite with its resolved options (`fedtl bench demo-tuning`); resolves with the exit status. */
export async function runDemoTuningSuite(resolved: ResolvedOptions<typeof DEMO_TUNING_OPTIONS>): Promise<number> {
  const options = demoTuningOptionsFrom(resolved.values);
  configureLogging({ level: options.logLevel, format: options.logFormat });
  const started = performance.now();
  const backend = await selectBackend();
  const mailboxes = await spamAssassinMailboxes({ organisations: options.organisations, perOrganisation: options.perOrganisation });
  const labels = ['ham', 'spam'];
  // The client reads the demo's --validate files back with readJsonl, which trims texts: so do we.
  const trimmed = (examples: readonly LabelledText[]) => examples.map((example) => ({ ...example, text: example.text.trim() }));
  const draws = Array.from({ length: options.draws }, (_, draw) => draw);
  // [organisation][draw]: the training mail split into a pool (labels are drawn from it) and a validation slice.
  const held = mailboxes.map((mailbox) =>
    draws.map((draw) => validationMailbox(mailbox, options.validationFraction, CLIENT_SEED + (options.fixedValidation ? 0 : draw))),
  );
  const samples = held.map((perDraw) =>
    options.budgets.map((budget) => draws.map((draw) => trimmed(stratifiedSample(trimmed(perDraw[draw].train), budget, CLIENT_SEED + draw)))),
  );
  const validations = held.map((perDraw) => perDraw.map((mailbox) => trimmed(mailbox.test)));
  const texts = [...new Set([...samples.flat(3), ...validations.flat(2)].map((example) => example.text))];
  const backbone = await backboneRefFor('use-lite');
  const store = await embedOnce(texts, backbone, 'use-lite', options.cacheDir, 0);
  const spec: ModelSpec = { inputDim: backbone.dim, ...MODEL, labels };
  const results: SettingResult[] = [];
  const grid = [options.budgets, options.strategies, options.localEpochs, options.learningRates, options.batchSizes];
  const progress = new SuiteProgress('demo-tuning', grid.reduce((product, values) => product * values.length, 1), 'settings');
  for (const [b, budget] of options.budgets.entries()) {
    // A local-only model depends on the budget, draw, learning rate, batch size and total epochs only.
    const localCache = new Map<string, number>();
    const organisations: Organisation[] = mailboxes.map((mailbox, o) => ({
      name: mailbox.name,
      train: draws.map((draw) => labelledFeatures(samples[o][b][draw], store.featuresOf, labels)),
      validation: draws.map((draw) => labelledFeatures(validations[o][draw], store.featuresOf, labels)),
    }));
    for (const strategy of options.strategies) {
      for (const localEpochs of options.localEpochs) {
        for (const learningRate of options.learningRates) {
          for (const batchSize of options.batchSizes) {
            const t = performance.now();
            progress.begin(`${budget} per mailbox, ${strategy}, E=${localEpochs}, lr ${learningRate}, B=${batchSize}`);
            const perRounds = new Map<number, OrganisationScore[][]>(options.rounds.map((rounds) => [rounds, []]));
            for (const draw of draws) {
              const training = { localEpochs, batchSize, learningRate, optimizer: 'adam' as const };
              const run = { strategy, draw, training, personalizeEpochs: options.personalizeEpochs };
              const byRounds = await simulate(spec, organisations, run, options.rounds, localCache);
              for (const [rounds, scores] of byRounds) perRounds.get(rounds)?.push(scores);
            }
            for (const [rounds, scores] of perRounds) results.push({ strategy, budget, rounds, localEpochs, learningRate, batchSize, scores });
            log.info('setting done', { strategy, budget, localEpochs, learningRate, batchSize, seconds: ((performance.now() - t) / 1000).toFixed(1) });
            progress.end();
          }
        }
      }
    }
  }
  await mkdir(options.out, { recursive: true });
  const seconds = (performance.now() - started) / 1000;
  const header = {
    command: benchCommand('demo-tuning', DEMO_TUNING_OPTIONS, resolved),
    machine: describeMachine(machineInfo()),
    backend,
    seconds,
    organisations: mailboxes.map((mailbox, o) => ({ name: mailbox.name, mix: mailbox.mix.name, validation: validations[o][0].length, pool: held[o][0].train.length })),
    options,
  };
  await writeFile(join(options.out, 'results.json'), JSON.stringify({ ...header, results }, null, 1) + '\n');
  const markdown = renderTuningMarkdown(results, options.personalizeEpochs, mailboxes.map((m) => m.name));
  await writeFile(join(options.out, 'results.md'), `${header.command}\n\n${markdown}\n`);
  process.stdout.write(`${markdown}\n\n${results.length} settings x ${options.draws} draws in ${seconds.toFixed(0)} s; ${join(options.out, 'results.json')}\n`);
  return 0;
}

/** `fedavg`, `fedavgm:LR:MOMENTUM` or `fedadam:LR:TAU`, as the coordinator builds them (every client each round). */
export function createStrategy(spec: string): Strategy {
  const [name, ...numbers] = spec.split(':');
  const values = numbers.map(Number);
  if (values.some((value) => !(Number.isFinite(value) && value > 0))) throw configError('--strategies', 'fedavg, fedavgm:LR:MOMENTUM or fedadam:LR:TAU with positive numbers', spec);
  if (name === 'fedavg' && values.length === 0) return new FedAvg();
  if (name === 'fedavgm' && values.length === 2) return new FedAvgM({ serverLearningRate: values[0], serverMomentum: values[1] });
  if (name === 'fedadam' && values.length === 2) return new FedAdam({ serverLearningRate: values[0], tau: values[1] });
  throw configError('--strategies', 'fedavg, fedavgm:LR:MOMENTUM or fedadam:LR:TAU', spec);
}

interface SimulatedRun {
  strategy: string;
  draw: number;
  training: Omit<TrainingConfig, 'seed'>;
  personalizeEpochs: readonly number[];
}

/**
 * One federation of the largest round count (and the local-only models for each round count), scored at every
 * round count in `rounds`: validation accuracy of local only, the global model and the personalised one per
 * organisation.
 */
async function simulate(
  spec: ModelSpec,
  organisations: readonly Organisation[],
  run: SimulatedRun,
  rounds: readonly number[],
  localCache: Map<string, number>,
): Promise<Map<number, OrganisationScore[]>> {
  const { draw, training, personalizeEpochs } = run;
  const coordinatorSeed = COORDINATOR_SEED + draw;
  const clientSeed = CLIENT_SEED + draw;
  const accuracy = async (weights: readonly NamedTensor[], data: LabelledFeatures) => (await evaluate(spec, weights, data)).metrics.accuracy;
  const out = new Map<number, OrganisationScore[]>();
  const strategy = createStrategy(run.strategy);
  let global = strategy.initialize(initialWeights(spec, coordinatorSeed));
  for (let round = 1; round <= Math.max(...rounds); round++) {
    const config: TrainingConfig = { ...training, seed: deriveSeed(coordinatorSeed, 'train', round) };
    const aggregator = strategy.beginRound(round, global);
    for (const organisation of organisations) {
      const data = organisation.train[draw];
      const update = await trainLocally(spec, global, data, { ...config, seed: deriveSeed(config.seed, organisation.name) });
      aggregator.add({ clientId: organisation.name, delta: update.delta, numExamples: update.numExamples, metrics: update.metrics });
    }
    const result = aggregator.finish([]);
    if (!result) throw new Error(`round ${round}: no update was aggregated`);
    global = result.weights;
    if (!rounds.includes(round)) continue;
    const scores: OrganisationScore[] = [];
    for (const organisation of organisations) {
      const data = organisation.train[draw];
      // apps/client's Learner: local only from the client's seed for rounds x local epochs; the personalised head
      // from the final global model with the last plan's learning rate and batch size and the client's seed.
      const localEpochs = round * training.localEpochs;
      const key = [organisation.name, draw, training.learningRate, training.batchSize, localEpochs].join('|');
      let local = localCache.get(key);
      if (local === undefined) {
        const start = initialWeights(spec, clientSeed);
        const trained = await trainLocally(spec, start, data, { ...config, localEpochs, seed: clientSeed });
        local = await accuracy(applyDelta(start, trained.delta), organisation.validation[draw]);
        localCache.set(key, local);
      }
      const personalised: Record<number, number> = {};
      for (const epochs of personalizeEpochs) {
        const tuned = await trainLocally(spec, global, data, { ...config, localEpochs: epochs, seed: clientSeed }, { trainable: (name) => name.startsWith('head/') });
        personalised[epochs] = await accuracy(applyDelta(global, tuned.delta), organisation.validation[draw]);
      }
      scores.push({
        local,
        global: await accuracy(global, organisation.validation[draw]),
        personalised,
      });
    }
    out.set(round, scores);
  }
  return out;
}

const mean = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
const pct = (value: number) => (100 * value).toFixed(1);

/** The demo's targets on one draw: the global mean beats local only by 3 points, personalised ≥ local only everywhere. */
export function meetsTargets(draw: readonly OrganisationScore[], personalizeEpochs: number): boolean {
  // Accuracies are multiples of 1/n: compare in whole mails' worth, not in floating point.
  const gain = mean(draw.map((s) => s.global - s.local));
  return gain >= 0.03 - 1e-9 && draw.every((s) => s.personalised[personalizeEpochs] >= s.local - 1e-9);
}

/** Mean over draws and organisations, and the worst organisation-draw, of each setting. */
export function summarise(result: SettingResult, personalizeEpochs: number) {
  const flat = result.scores.flat();
  const meanOver = (pick: (score: OrganisationScore) => number) => mean(flat.map(pick));
  return {
    local: meanOver((s) => s.local),
    global: meanOver((s) => s.global),
    personalised: meanOver((s) => s.personalised[personalizeEpochs]),
    /** Mean over draws of (federated mean − local mean), and its smallest draw. */
    gain: meanOver((s) => s.global - s.local),
    worstDrawGain: Math.min(...result.scores.map((draw) => mean(draw.map((s) => s.global - s.local)))),
    /** The smallest personalised − local over organisations and draws. */
    worstPersonalisedGain: Math.min(...flat.map((s) => s.personalised[personalizeEpochs] - s.local)),
    /** Draws that meet the demo's targets: global mean ≥ local mean + 3 points, personalised ≥ local everywhere. */
    drawsMeetingTargets: result.scores.filter((draw) => meetsTargets(draw, personalizeEpochs)).length,
  };
}

export function renderTuningMarkdown(results: readonly SettingResult[], personalizeEpochs: readonly number[], names: readonly string[]): string {
  const lines: string[] = [];
  lines.push(
    '| strategy | budget | rounds | epochs | lr | batch | local | global | gain | worst draw gain | ' +
      personalizeEpochs.map((p) => `pers ${p} | worst pers−local ${p} | draws meeting targets ${p}`).join(' | ') +
      ' | draw 0 local / global / pers per org |',
  );
  lines.push(`|---|${'---:|'.repeat(9 + 3 * personalizeEpochs.length)}---|`);
  for (const result of results) {
    const summaries = personalizeEpochs.map((p) => summarise(result, p));
    const s = summaries[0];
    const draw0 = result.scores[0]
      .map((score, o) => `${names[o]} ${pct(score.local)}/${pct(score.global)}/${personalizeEpochs.map((p) => pct(score.personalised[p])).join(',')}`)
      .join('; ');
    lines.push(
      `| ${result.strategy} | ${result.budget} | ${result.rounds} | ${result.localEpochs} | ${result.learningRate} | ${result.batchSize} | ${pct(s.local)} | ${pct(s.global)} | ` +
        `${pct(s.gain)} | ${pct(s.worstDrawGain)} | ` +
        summaries.map((p) => `${pct(p.personalised)} | ${pct(p.worstPersonalisedGain)} | ${p.drawsMeetingTargets}/${result.scores.length}`).join(' | ') +
        ` | ${draw0} |`,
    );
  }
  return lines.join('\n');
}
