// `bench few-shot`: does a meta-learned initialisation let a new organisation adapt from a few labelled examples?
// For every seed and every domain in turn as the new one, the other domains federate twice over real sockets
// (a real coordinator and one real client process each): --strategy fedavg and --strategy per-fedavg. The new
// domain then adapts from k labelled examples, with the same full-batch SGD steps for every starting point
// (adaptLocally, the procedure of the client's --adapt-only, run here in process on the same features), from
// (a) the Per-FedAvg weights, (b) the FedAvg weights and (c) a fresh adapter and head, and is scored on its own
// evaluation set.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stratifiedSample, type LabelledText } from '@fedtl/data';
import { adaptLocally, backboneRefFor, evaluate, initialWeights, selectBackend } from '@fedtl/model';
import type { ModelSpec, NamedTensor } from '@fedtl/protocol';
import { configError, configureLogging, createLogger, deriveSeed } from '@fedtl/util';
import type { ResolvedOptions } from '@fedtl/util/options';
import { benchCommand } from '../bench-command';
import { machineInfo } from '../machine';
import { meanOf } from '../domains/report';
import { writeClientFiles } from '../domains/budget-run';
import { checkpointPath, readCheckpointWeights } from '../domains/checkpoint-reader';
import { labelSetOf, labelledFeatures, readDomains, textsToEmbed, withBudget } from '../domains/domain-data';
import { embedOnce } from '../domains/feature-store';
import { runFederation, type FederationStrategy } from '../domains/federation-run';
import { fewShotOptionsFrom, type FewShotOptions } from './few-shot-config';
import { FEW_SHOT_OPTIONS } from './few-shot-options';
import { INITS, chooseLearningRates, fewShotMarkdown, pairedDifferences, summarize, type AdaptationRecord, type FederationRecord, type FewShotReport, type InitName } from './few-shot-report';
import { SuiteProgress } from '../suite-progress';

const log = createLogger('bench-few-shot');

/** Runs the suite with its resolved options (`fedtl bench few-shot`); resolves with the exit status. */
export async function runFewShotSuite(resolved: ResolvedOptions<typeof FEW_SHOT_OPTIONS>): Promise<number> {
  const parsed = fewShotOptionsFrom(resolved.values);
  // Paths are handed to child processes that run in the workspace root: make them absolute.
  const options: FewShotOptions = { ...parsed, dataDir: resolve(parsed.dataDir), out: resolve(parsed.out), cacheDir: resolve(parsed.cacheDir) };
  configureLogging({ level: options.logLevel, format: options.logFormat });
  const started = performance.now();
  const backend = await selectBackend();
  const domains = await readDomains({
    dataDir: options.dataDir,
    domains: options.domains,
    seed: options.seeds[0],
    validationFraction: options.validate ? options.validationFraction : undefined,
  });
  if (domains.length < 2) throw configError('--domains', 'at least two domains (one new, the others federating)', domains.map((d) => d.name).join(','));
  const labels = labelSetOf(domains);
  const backbone = await backboneRefFor(options.backbone);
  const spec: ModelSpec = { inputDim: backbone.dim, ...options.model, labels };
  const draws = options.seeds.map((seed) => ({
    seed,
    federating: withBudget(domains, options.labelsPerClient, seed),
    shots: new Map(domains.map((d) => [d.name, new Map(options.shots.map((k) => [k, stratifiedSample(d.trainPool, k, deriveSeed(seed, 'few-shot', d.name, k))]))])),
  }));
  const shotTexts = draws.flatMap((draw) => [...draw.shots.values()].flatMap((byK) => [...byK.values()].flat()));
  const texts = [...new Set([...textsToEmbed(draws.flatMap((draw) => draw.federating)), ...shotTexts.map((e) => e.text)])];
  const store = await embedOnce(texts, backbone, options.backbone, options.cacheDir, options.embedThreads);
  const features = (examples: readonly LabelledText[]) => labelledFeatures(examples, store.featuresOf, labels);

  const records: AdaptationRecord[] = [];
  const federations: FederationRecord[] = [];
  await mkdir(options.out, { recursive: true });
  // The clients' copies of their texts live in a temporary folder, removed afterwards: OUT keeps results only.
  const clientDir = await mkdtemp(join(tmpdir(), 'fedtl-bench-few-shot-'));
  const progress = new SuiteProgress('few-shot', draws.length * domains.length, 'new domains');
  try {
    for (const draw of draws) {
      const clients = await writeClientFiles(join(clientDir, `seed-${draw.seed}`), draw.federating);
      for (const domain of domains) {
        progress.begin(`seed ${draw.seed} new ${domain.name}`);
        const inits: Partial<Record<InitName, NamedTensor[]>> = { scratch: initialWeights(spec, draw.seed) };
        const strategies: FederationStrategy[] = [{ name: 'fedavg' }, { name: 'per-fedavg', metaInnerLearningRate: options.metaInnerLearningRate }];
        for (const strategy of strategies) {
          const runDir = join(options.out, 'runs', `seed-${draw.seed}`, `new-${domain.name}`, strategy.name);
          const federation = await runFederation({
            runDir,
            clients: clients.filter((client) => client.id !== domain.name),
            labels,
            rounds: options.rounds,
            seed: draw.seed,
            backbone: options.backbone,
            backend,
            cacheDir: options.cacheDir,
            model: options.model,
            training: options.training,
            strategy,
            personalizeEpochs: 0,
            audit: false,
            secureAggregation: false,
          });
          const weights = await readCheckpointWeights(checkpointPath(runDir, options.rounds));
          inits[strategy.name as InitName] = weights;
          federations.push({
            seed: draw.seed,
            newDomain: domain.name,
            strategy: strategy.name as FederationRecord['strategy'],
            seconds: federation.seconds,
            bytesUp: meanOf(federation.records.map((r) => r.bytesUp)),
            weightsSha256: weightsDigest(weights),
          });
          // The run's checkpoints and logs are only needed until its weights are read.
          await rm(runDir, { recursive: true, force: true });
        }
        const evaluation = features(domain.evaluation);
        for (const init of INITS) {
          const start = inits[init] as NamedTensor[];
          const startSha256 = weightsDigest(start);
          const unadapted = (await evaluate(spec, start, evaluation)).metrics;
          records.push({ seed: draw.seed, domain: domain.name, init, shots: 0, learningRate: 0, startSha256, accuracy: unadapted.accuracy, macroF1: unadapted.macroF1 });
          for (const k of options.shots) {
            const examples = features(draw.shots.get(domain.name)?.get(k) ?? []);
            for (const learningRate of options.adaptLearningRates[init]) {
              const adapted = await adaptLocally(spec, start, examples, { steps: options.steps, learningRate, seed: deriveSeed(draw.seed, 'adapt', domain.name, k) });
              const { metrics } = await evaluate(spec, adapted.weights, evaluation);
              records.push({ seed: draw.seed, domain: domain.name, init, shots: k, learningRate, startSha256, accuracy: metrics.accuracy, macroF1: metrics.macroF1 });
            }
          }
        }
        const done = records.filter((r) => r.seed === draw.seed && r.domain === domain.name && r.shots > 0);
        log.info('new domain adapted', { seed: draw.seed, domain: domain.name, ...Object.fromEntries(done.map((r) => [`${r.init}@${r.shots}/${r.learningRate}`, Number(r.accuracy.toFixed(3))])) });
        progress.end();
      }
    }
  } finally {
    await rm(clientDir, { recursive: true, force: true });
    await rm(join(options.out, 'runs'), { recursive: true, force: true });
  }

  const names = domains.map((d) => d.name);
  const cells = summarize(records, options.seeds, options.shots, names);
  const chosenLearningRates = chooseLearningRates(cells);
  const report: FewShotReport = {
    suite: 'few-shot',
    evaluatedOn: options.validate ? 'validation' : 'test',
    domains: names,
    seeds: options.seeds,
    shots: options.shots,
    labelsPerClient: options.labelsPerClient,
    rounds: options.rounds,
    steps: options.steps,
    metaInnerLearningRate: options.metaInnerLearningRate,
    chosenLearningRates,
    hyperparameters: { ...options.model, ...options.training },
    backbone: { id: backbone.id, hash: backbone.contentHash },
    backend,
    machine: machineInfo(),
    seconds: (performance.now() - started) / 1000,
    command: benchCommand('few-shot', FEW_SHOT_OPTIONS, resolved),
    cells,
    comparisons: pairedDifferences(records, options.seeds, options.shots, [['per-fedavg', 'fedavg'], ['fedavg', 'scratch'], ['per-fedavg', 'scratch']], chosenLearningRates),
    federations,
    records,
  };
  await writeFile(join(options.out, 'report.json'), JSON.stringify(report, null, 2) + '\n');
  const markdown = fewShotMarkdown(report);
  await writeFile(join(options.out, 'report.md'), markdown);
  process.stdout.write(`\n${markdown}`);
  return 0;
}

function weightsDigest(weights: readonly NamedTensor[]): string {
  const hash = createHash('sha256');
  for (const tensor of weights) hash.update(new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength));
  return hash.digest('hex');
}
