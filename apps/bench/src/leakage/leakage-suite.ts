// `bench leakage`: the leakage audit (issue 10). For every dataset, setting and trial it plays round 1 of a run
// (the coordinator's initial global weights, the plan, the client's own local training on real use-lite
// features), hands the coordinator exactly what it would hold, runs every attack on it and scores the
// recovered vectors against the client's true feature vectors. Writes report.json and report.md.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { backboneRefFor, initialWeights, selectBackend } from '@fedtl/model';
import type { ModelSpec } from '@fedtl/protocol';
import { FedtlError, configureLogging, createLogger, deriveSeed } from '@fedtl/util';
import type { ResolvedOptions } from '@fedtl/util/options';
import { machineInfo } from '../machine';
import { embedOnce } from '../domains/feature-store';
import { SuiteProgress } from '../suite-progress';
import { analyticInversion } from './analytic-inversion';
import { auditTexts, readAmazonReviews, readDemoMail, type AuditDataset } from './audit-data';
import { auditSettings, receive, type AuditSetting } from './audit-settings';
import { dpAuditSettings, DP_DELTA, RECORD_CLIP, UPDATE_CLIP } from './dp-settings';
import { imprintRecovery, imprintTrapWeights } from './imprint-trap';
import { gradientMatchingAttack } from './gradient-matching';
import type { LeakageAttack } from './leakage-attack';
import { benchCommand } from '../bench-command';
import { leakageOptionsFrom, type LeakageOptions } from './leakage-config';
import { LEAKAGE_OPTIONS } from './leakage-options';
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
/** The notes on the metrics and the three attacks, which the DP report shares. */
const SHARED_NOTES = 6;

const DP_NOTES = [
  `every ε is that of this one round alone, at δ = ${DP_DELTA}, from @fedtl/privacy's RDP accountant (noiseMultiplierFor: the smallest noise multiplier within ε): the most favourable case for the attacker, since a run of many rounds within the same ε needs more noise per round.`,
  `DP-SGD rows: the target's update is trained by trainLocallyDpSgd (libs/model, the client's own DP-SGD): Poisson sampling at q = min(1, batch / n), an epoch of round(1/q) steps, each example's gradient over all trained tensors clipped to C = ${RECORD_CLIP}, N(0, σ²C²) on the sum, divided by q·n. σ calibrated for the round's epochs × round(1/q) steps at q.`,
  `DP-FedAvg rows: the target's ordinary update (the malicious plan) clipped, all tensors together, to S = ${UPDATE_CLIP} (clipInPlace) plus N(0, z²S²) per coordinate (addGaussianNoiseInPlace), z calibrated for one step at q = 1: the noise the whole round's sum carries, on one client alone (the worst case; with k clients in the sum each would be hidden by the others as well). S is below every target's update norm (checked on each trial), so the relative noise is z, the attacker's best case. The clip-only row is what a coordinator that adds the noise itself sees in the clear (PROTOCOL §7.1): clipping keeps the update's direction, so it leaks as the plain update does; client-level DP protects against the coordinator only when the clients add the noise (dp-fedavg/v1's update_noise_stddev, under secure aggregation).`,
  'the DP sampling and noise come from a source seeded by the trial and the row, only so that the report repeats for a given --seed; the client\'s own source is node:crypto (cryptoRandomness), never the plan\'s seed. Trials use the same targets and global weights as the plain rows of report.md (default plan at the same size, malicious plan), so the rows pair up.',
  'attacks under DP: the coordinator knows the plan\'s DP terms; since noise moves every coordinate, analytic and sign read the head\'s first layer when a single local step cannot have reached the adapter\'s down-projection (its up-projection is zero in the weights sent), otherwise the down-projection; gradient matching matches every tensor. An attack that cannot read an update shows n/a with the reason.',
];

/** Per-coordinate mean |x| over `vectors` (the sign attack's magnitude prior). */
function meanMagnitude(vectors: readonly Float32Array[], dim: number): Float32Array {
  const out = new Float32Array(dim);
  for (const v of vectors) for (let i = 0; i < dim; i++) out[i] += Math.abs(v[i]) / vectors.length;
  return out;
}

function summarise(attack: LeakageAttack, scores: RecoveryScore[], detail: Record<string, number | string>, notApplicable?: string): AttackSummary {
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
    ...(notApplicable === undefined ? {} : { notApplicable }),
  };
}

async function auditSetting(options: LeakageOptions, dataset: AuditDataset, spec: ModelSpec, setting: AuditSetting, featuresOf: (text: string) => Float32Array): Promise<SettingSummary> {
  const others = dataset.others.map((e) => featuresOf(e.text));
  const sign = signPatternAttack(meanMagnitude(others, spec.inputDim));
  const trap = setting.weights === 'trap' ? [imprintRecovery] : [];
  const summaryAttacks = [analyticInversion, gradientMatchingAttack({ ...options.matching, seed: 0 }), sign, ...trap];
  const scores = summaryAttacks.map(() => [] as RecoveryScore[]);
  const details = summaryAttacks.map(() => ({}) as Record<string, number | string>);
  const notApplicable: Array<string | undefined> = summaryAttacks.map(() => undefined);
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
      let result;
      try {
        result = await attack.recover(reception.observed);
      } catch (error) {
        // An update the attack cannot read: the row says n/a with the reason, not a crash of the audit.
        if (!(error instanceof FedtlError)) throw error;
        notApplicable[a] = error.message;
        continue;
      }
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
    ...(setting.dp ? { dp: setting.dp } : {}),
    attacks: summaryAttacks.map((attack, a) => summarise(attack, scores[a], details[a], notApplicable[a])),
    seconds: (performance.now() - started) / 1000,
  };
}

/** Runs the audit with its resolved options (`fedtl bench leakage`); resolves with the exit status. */
export async function runLeakageSuite(resolved: ResolvedOptions<typeof LEAKAGE_OPTIONS>): Promise<number> {
  const options = leakageOptionsFrom(resolved.values);
  configureLogging({ level: options.logLevel, format: options.logFormat });
  const backend = await selectBackend();
  const datasets: AuditDataset[] = [];
  for (const name of options.datasets) {
    // Each organisation holds as many texts as the largest client of the audit needs, whichever groups run, so
    // that a row's targets are the same texts in every group (a DP row and its plain row are paired trial by trial).
    const dataOptions = { perOrganisation: Math.max(...options.sizes[name], ...options.dpSizes, ...options.sumOthers.map(() => 1)), others: options.others, seed: options.seed };
    datasets.push(name === 'amazon' ? await readAmazonReviews(options.dataDir, dataOptions) : await readDemoMail(dataOptions));
  }
  const backbone = await backboneRefFor('use-lite');
  const store = await embedOnce(auditTexts(datasets), backbone, 'use-lite', options.cacheDir, options.embedThreads);
  for (const group of options.settings) {
    const started = performance.now();
    const tensorsBefore = tf.memory().numTensors;
    const settings: SettingSummary[] = [];
    const blindCosine: Record<string, number> = {};
    const rowsOf = datasets.map((dataset) => (group === 'dp' ? dpAuditSettings(dataset, options.dpSizes) : auditSettings(dataset, options.sizes[dataset.name], options.sumOthers, options.trapExamples)));
    const progress = new SuiteProgress(`leakage ${group}`, rowsOf.flat().length, 'settings');
    for (const [d, dataset] of datasets.entries()) {
      const spec: ModelSpec = { inputDim: backbone.dim, ...MODEL, labels: dataset.labels };
      const others = dataset.others.map((e) => store.featuresOf(e.text));
      const mean = new Float32Array(spec.inputDim);
      for (const v of others) for (let i = 0; i < mean.length; i++) mean[i] += v[i] / others.length;
      const truths = dataset.organisations.flatMap((o) => o.examples).map((e) => store.featuresOf(e.text));
      blindCosine[dataset.name] = truths.reduce((sum, t) => sum + cosine(mean, t), 0) / Math.max(1, truths.length);
      for (const setting of rowsOf[d]) {
        progress.begin(`${dataset.name} ${setting.id}`);
        const summary = await auditSetting(options, dataset, spec, setting, store.featuresOf);
        settings.push(summary);
        log.info('setting done', { dataset: dataset.name, setting: setting.id, seconds: Math.round(summary.seconds * 10) / 10 });
        progress.end();
      }
    }
    if (tf.memory().numTensors !== tensorsBefore) log.warn('tensors left behind by the attacks', { before: tensorsBefore, after: tf.memory().numTensors });
    const report: LeakageReport = {
      suite: 'leakage',
      group,
      command: benchCommand('leakage', LEAKAGE_OPTIONS, resolved),
      seed: options.seed,
      trials: options.trials,
      quick: options.quick,
      backbone: { id: backbone.id, hash: backbone.contentHash, dim: backbone.dim },
      backend,
      model: { adapterWidth: MODEL.adapterWidth, head: MODEL.head },
      datasets: datasets.map((d) => ({ name: d.name, title: d.title, defaultPlanSource: d.defaultPlanSource, organisations: d.organisations.length, others: d.others.length })),
      settings,
      blindCosine,
      notes: group === 'dp' ? [...NOTES.slice(0, SHARED_NOTES), ...DP_NOTES] : NOTES,
      machine: machineInfo(),
      embedding: store.summary,
      seconds: (performance.now() - started) / 1000,
    };
    const name = group === 'dp' ? 'dp-report' : 'report';
    await mkdir(options.outDir, { recursive: true });
    await writeFile(join(options.outDir, `${name}.json`), JSON.stringify(report, null, 2) + '\n');
    await writeFile(join(options.outDir, `${name}.md`), leakageMarkdown(report));
    for (const dataset of report.datasets) process.stdout.write(`\n${dataset.title}:\n\n${leakageTable(report, dataset.name)}`);
    process.stdout.write(`\n${name}.json and ${name}.md in ${options.outDir} (${report.seconds.toFixed(0)} s)\n`);
  }
  return 0;
}
