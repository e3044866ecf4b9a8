// `bench leakage`: the leakage audit (issue 10). For every dataset, setting and trial it plays round 1 of a run
// (the coordinator's initial global weights, the plan, the client's own local training on real use-lite
// features), hands the coordinator exactly what it would hold, runs every attack on it and scores the
// recovered vectors against the client's true feature vectors. Writes report.json and report.md.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { backboneRefFor, initialWeights, selectBackend } from '@fedtl/model';
import type { ModelSpec } from '@fedtl/protocol';
import { configureLogging, createLogger, deriveSeed } from '@fedtl/util';
import { machineInfo } from '../machine';
import { embedOnce } from '../domains/feature-store';
import { analyticInversion } from './analytic-inversion';
import { auditTexts, readAmazonReviews, readDemoMail, type AuditDataset } from './audit-data';
import { auditSettings, receive, type AuditSetting } from './audit-settings';
import { imprintRecovery, imprintTrapWeights } from './imprint-trap';
import { gradientMatchingAttack } from './gradient-matching';
import type { LeakageAttack } from './leakage-attack';
import { LEAKAGE_USAGE, parseLeakageArgs, type LeakageOptions } from './leakage-config';
import { leakageMarkdown, leakageTable, type AttackSummary, type LeakageReport, type SettingSummary } from './leakage-report';
import { cosine, meanAndSd, scoreRecovery, type RecoveryScore } from './recovery-metrics';
import { signPatternAttack } from './sign-pattern';

const log = createLogger('bench-leakage');
const MODEL = { adapterWidth: 64, head: 'linear', headHidden: 64 } as const;

const NOTES = [
  'cosine: per trial, the mean over recovered vectors of the best cosine to one of the client\'s true feature vectors; mean ± sd over trials.',
  'top-1: per trial, the share of the client\'s texts that some recovered vector picks as its nearest candidate (cosine; sign agreement for the sign attack) in the pool of the client\'s own texts and the others; mean ± sd over trials. One example: the rate of picking the true text.',
  'chance: the top-1 rate of as many uniformly random picks from the same pool, 1 − (1 − 1/N)^guesses (1/N for one guess).',
  'analytic: one declared example → ΔW·Δb/‖Δb‖² of the first dense layer that moved (the adapter down-projection, else the head: the adapter\'s up-projection starts at zero, so a first step leaves the down-projection still); several → ΔW[:,k]/Δb[k] per unit (up to 64 vectors).',
  'matching: dummy feature vectors optimised (Adam) so that the gradient of the project\'s own model at the global weights (AdapterHeadModel.lossAndGradients, itself TF.js autodiff, differentiated again with respect to the dummies) has cosine −1 with each observed tensor; labels from the head bias delta (iDLG). The client\'s several local steps are not unrolled. Runs on the first trials only (see n).',
  'sign: sign(ΔW[:,k])·sign(Δb[k]) of the first dense layer that moved, voted over units (one example) or per unit (several), times the per-coordinate mean |x| of the others as a magnitude prior; ranked by sign agreement.',
  'secure aggregation rows are built with @fedtl/privacy only (packContribution, FixedPointCodec, X25519 pairwise seeds, maskInput, unmaskSum, unpackAggregate); masks come from the OS CSPRNG as in the protocol, so the masked row varies from run to run (at chance).',
  'imprint (optional attack, trap rows only): the coordinator sends malicious global weights that turn the adapter into an imprint module (Fowl et al., "Robbing the Fed", ICLR 2022): 64 down-projection units measuring one random direction with thresholds at quantiles of the distractors, one shared up-projection row; the bin differences of the delta give the examples alone in a bin. Global weights are plain data to the client: nothing in today\'s protocol lets it tell a trap from a trained model.',
  'policy row: the client checks the plan with policyViolation from @fedtl/privacy and sends nothing; the coordinator can only guess blindly (top-1 = chance).',
];

/** Per-coordinate mean |x| over `vectors` (the sign attack's magnitude prior). */
function meanMagnitude(vectors: readonly Float32Array[], dim: number): Float32Array {
  const out = new Float32Array(dim);
  for (const v of vectors) for (let i = 0; i < dim; i++) out[i] += Math.abs(v[i]) / vectors.length;
  return out;
}

function summarise(attack: LeakageAttack, scores: RecoveryScore[], detail: Record<string, number | string>): AttackSummary {
  const cosines = scores.map((s) => s.cosine).filter((c): c is number => c !== null);
  return {
    attack: attack.name,
    title: attack.title,
    trials: scores.length,
    cosine: meanAndSd(cosines),
    top1: meanAndSd(scores.map((s) => s.top1)) ?? { mean: 0, sd: 0 },
    chance: scores.reduce((sum, s) => sum + s.chance, 0) / Math.max(1, scores.length),
    guesses: scores.reduce((sum, s) => sum + s.guesses, 0) / Math.max(1, scores.length),
    detail,
    perTrial: scores.map((s) => [s.cosine, s.top1]),
  };
}

async function auditSetting(options: LeakageOptions, dataset: AuditDataset, spec: ModelSpec, setting: AuditSetting, featuresOf: (text: string) => Float32Array): Promise<SettingSummary> {
  const others = dataset.others.map((e) => featuresOf(e.text));
  const sign = signPatternAttack(meanMagnitude(others, spec.inputDim));
  const trap = setting.weights === 'trap' ? [imprintRecovery] : [];
  const summaryAttacks = [analyticInversion, gradientMatchingAttack({ ...options.matching, seed: 0 }), sign, ...trap];
  const scores = summaryAttacks.map(() => [] as RecoveryScore[]);
  const details = summaryAttacks.map(() => ({}) as Record<string, number | string>);
  const started = performance.now();
  let refused: string | undefined;
  let poolSize = 0;
  for (let trial = 0; trial < options.trials; trial++) {
    const runSeed = deriveSeed(options.seed, 'leakage-run', dataset.name, trial);
    // The trap is built from public texts of the same kind: the pool's distractors stand for them.
    const global = setting.weights === 'trap' ? imprintTrapWeights(spec, others, runSeed) : initialWeights(spec, runSeed);
    const context = { dataset, spec, global, runSeed, trial, featuresOf };
    const reception = await receive(setting, context);
    poolSize = reception.truth.length + others.length;
    const attacks = [analyticInversion, gradientMatchingAttack({ ...options.matching, seed: deriveSeed(runSeed, 'matching', setting.id) }), sign, ...trap];
    for (const [a, attack] of attacks.entries()) {
      if (attack.name === 'matching' && trial >= options.matching.trials) continue;
      if (reception.kind === 'refused') {
        refused = reception.reason;
        scores[a].push(scoreRecovery([], reception.truth, others));
        continue;
      }
      const result = await attack.recover(reception.observed);
      scores[a].push(scoreRecovery(result.vectors, reception.truth, others, result.rankBy));
      if (trial === 0) details[a] = result.detail;
    }
  }
  return {
    dataset: dataset.name,
    setting: setting.id,
    title: setting.title,
    receives: setting.receives,
    plan: setting.plan,
    examples: setting.examples,
    otherClients: setting.otherClients,
    ...(refused ? { refused } : {}),
    poolSize,
    attacks: summaryAttacks.map((attack, a) => summarise(attack, scores[a], details[a])),
    seconds: (performance.now() - started) / 1000,
  };
}

export async function runLeakageSuite(argv: string[]): Promise<number> {
  const options = parseLeakageArgs(argv);
  if (options === 'help') {
    process.stdout.write(LEAKAGE_USAGE);
    return 0;
  }
  configureLogging({ level: options.logLevel });
  const started = performance.now();
  const backend = await selectBackend();
  const datasets: AuditDataset[] = [];
  for (const name of options.datasets) {
    // Each organisation holds as many texts as the largest client of the audit needs.
    const dataOptions = { perOrganisation: Math.max(...options.sizes[name], ...options.sumOthers.map(() => 1)), others: options.others, seed: options.seed };
    datasets.push(name === 'amazon' ? await readAmazonReviews(options.dataDir, dataOptions) : await readDemoMail(dataOptions));
  }
  const backbone = await backboneRefFor('use-lite');
  const store = await embedOnce(auditTexts(datasets), backbone, 'use-lite', options.cacheDir, options.embedThreads);
  const tensorsBefore = tf.memory().numTensors;
  const settings: SettingSummary[] = [];
  const blindCosine: Record<string, number> = {};
  for (const dataset of datasets) {
    const spec: ModelSpec = { inputDim: backbone.dim, ...MODEL, labels: dataset.labels };
    const others = dataset.others.map((e) => store.featuresOf(e.text));
    const mean = new Float32Array(spec.inputDim);
    for (const v of others) for (let i = 0; i < mean.length; i++) mean[i] += v[i] / others.length;
    const truths = dataset.organisations.flatMap((o) => o.examples).map((e) => store.featuresOf(e.text));
    blindCosine[dataset.name] = truths.reduce((sum, t) => sum + cosine(mean, t), 0) / Math.max(1, truths.length);
    for (const setting of auditSettings(dataset, options.sizes[dataset.name], options.sumOthers, options.trapExamples)) {
      const summary = await auditSetting(options, dataset, spec, setting, store.featuresOf);
      settings.push(summary);
      log.info('setting done', { dataset: dataset.name, setting: setting.id, seconds: Math.round(summary.seconds * 10) / 10 });
    }
  }
  if (tf.memory().numTensors !== tensorsBefore) log.warn('tensors left behind by the attacks', { before: tensorsBefore, after: tf.memory().numTensors });
  const report: LeakageReport = {
    suite: 'leakage',
    command: `npm run bench -- leakage ${argv.join(' ')}`.trim(),
    seed: options.seed,
    trials: options.trials,
    quick: options.quick,
    backbone: { id: backbone.id, hash: backbone.contentHash, dim: backbone.dim },
    backend,
    model: { adapterWidth: MODEL.adapterWidth, head: MODEL.head },
    datasets: datasets.map((d) => ({ name: d.name, title: d.title, defaultPlanSource: d.defaultPlanSource, organisations: d.organisations.length, others: d.others.length })),
    settings,
    blindCosine,
    notes: NOTES,
    machine: machineInfo(),
    embedding: store.summary,
    seconds: (performance.now() - started) / 1000,
  };
  await mkdir(options.outDir, { recursive: true });
  await writeFile(join(options.outDir, 'report.json'), JSON.stringify(report, null, 2) + '\n');
  await writeFile(join(options.outDir, 'report.md'), leakageMarkdown(report));
  for (const dataset of report.datasets) process.stdout.write(`\n${dataset.title}:\n\n${leakageTable(report, dataset.name)}`);
  process.stdout.write(`\nreport.json and report.md in ${options.outDir} (${report.seconds.toFixed(0)} s)\n`);
  return 0;
}
