// `fedtl client --adapt-only …`: a new organisation adapts a federation's model to its own domain from a
// few labelled examples and keeps the result. It reads the global weights from a checkpoint the federation
// published (a file, or a coordinator's run directory), takes a fixed number of full-batch gradient steps on its
// labelled examples (adaptLocally: the step Per-FedAvg's initialisation is meta-learned for), evaluates before
// and after on its held-out examples, and optionally saves the adapted weights. It opens no connection: nothing
// of its data, its adapted model or its accuracy is sent anywhere.
import { readdir, rename, rm, stat, writeFile, readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { adaptLocally, evaluate, selectBackend } from '@fedtl/model';
import { decodeCheckpointFile, encodeCheckpointFile, type BackboneRef, type ModelSpec, type NamedTensor } from '@fedtl/protocol';
import { FedtlError, configError, createLogger, errorMessage } from '@fedtl/util';
import { ADAPT_ONLY_DEFAULTS } from './client-options';
import type { AdaptOnlyOptions, ClientConfig } from './config';
import { LearnerExampleSource } from './learner-examples';
import { loadLocalData } from './local-data';

const CHECKPOINT_FILE = /^round-(\d{6})\.ckpt$/;

/** The global weights an adaptation starts from, and what they are. */
export interface PublishedModel {
  /** The checkpoint file read. */
  path: string;
  round: number;
  spec: ModelSpec;
  backbone?: BackboneRef;
  weights: NamedTensor[];
  /** The strategy and training config of the run's last round, when the checkpoint records them. */
  training?: { strategy: string; metaInnerLearningRate?: number };
  /** The run's privacy ledger as the checkpoint records it (differential privacy on), carried into --save-adapted. */
  privacy?: unknown;
}

export interface AdaptOnlyReport {
  source: string;
  round: number;
  labels: string[];
  trainExamples: number;
  testExamples: number;
  steps: number;
  learningRate: number;
  /** Where the step size came from. */
  learningRateFrom: '--adapt-learning-rate' | 'the run\'s Per-FedAvg α' | 'the default';
  optimizer: 'sgd' | 'adam';
  /** Accuracy and macro-F1 on the test examples before and after adapting (absent without test examples). */
  before?: { accuracy: number; macroF1: number };
  after?: { accuracy: number; macroF1: number };
  savedTo?: string;
  seconds: number;
}

/**
 * Reads the newest checkpoint of `path`: a checkpoint file, a run directory (its `checkpoints/`), or a directory of
 * `round-NNNNNN.ckpt` files. The newest is taken as it is: when it is damaged this fails (naming it) rather than
 * adapting an older model without saying so.
 * @throws FedtlError FEDTL_ERR_BAD_CONFIG naming --init-from when the path is missing, holds no checkpoint, or the
 *   checkpoint does not record its model (written before checkpoints did); FEDTL_ERR_CHECKPOINT_CORRUPT when it is
 *   damaged.
 */
export async function readPublishedModel(path: string): Promise<PublishedModel> {
  const given = resolve(path);
  let file = given;
  try {
    if ((await stat(given)).isDirectory()) {
      const nested = join(given, 'checkpoints');
      const dir = (await stat(nested).then((s) => s.isDirectory(), () => false)) ? nested : given;
      const newest = (await readdir(dir)).filter((name) => CHECKPOINT_FILE.test(name)).sort().pop();
      if (!newest) throw configError('--init-from', 'a run directory holding checkpoints (round-NNNNNN.ckpt)', `${dir} with none`);
      file = join(dir, newest);
    }
  } catch (err) {
    if (err instanceof FedtlError) throw err;
    throw configError('--init-from', 'an existing checkpoint file or run directory', `${given} (${errorMessage(err)})`);
  }
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw configError('--init-from', 'a readable checkpoint file', `${file} (${errorMessage(err)})`);
  }
  const { meta, groups } = decodeCheckpointFile(bytes, file);
  const spec = meta.model as ModelSpec | undefined;
  if (!spec) throw configError('--init-from', 'a checkpoint that records its model and label set', `${file}, which does not (written by an older fedtl)`);
  return {
    path: file,
    round: meta.round as number,
    spec,
    ...(meta.backbone ? { backbone: meta.backbone as BackboneRef } : {}),
    ...(meta.training ? { training: meta.training as PublishedModel['training'] } : {}),
    ...(meta.privacy !== undefined ? { privacy: meta.privacy } : {}),
    weights: groups.weights ?? [],
  };
}

/**
 * Adapts the published model to this client's labelled data and reports the accuracy before and after.
 * @throws FedtlError FEDTL_ERR_BAD_CONFIG when the checkpoint was trained on another backbone than the client's
 *   (content hash), FEDTL_ERR_UNKNOWN_LABEL when a local label is not in the model's label set, and whatever
 *   readPublishedModel, loading the data and adaptLocally throw.
 */
export async function runAdaptOnly(config: ClientConfig, options: AdaptOnlyOptions): Promise<AdaptOnlyReport> {
  const started = performance.now();
  const log = createLogger('adapt-only');
  // Checked before any work: a result that cannot be saved should not cost an adaptation first.
  if (options.saveTo) await checkSaveTarget(options.saveTo);
  const model = await readPublishedModel(options.initFrom);
  const alpha = model.training?.metaInnerLearningRate;
  const [learningRate, learningRateFrom]: [number, AdaptOnlyReport['learningRateFrom']] =
    options.learningRate !== undefined ? [options.learningRate, '--adapt-learning-rate']
      : alpha !== undefined ? [alpha, "the run's Per-FedAvg α"]
        : [ADAPT_ONLY_DEFAULTS.learningRate, 'the default'];
  const data = await loadLocalData(config);
  if (model.backbone && model.backbone.contentHash !== data.backbone.contentHash) {
    throw configError('--backbone', `the backbone the checkpoint was trained on (${model.backbone.id}, ${model.backbone.contentHash.slice(0, 12)})`, `${data.backbone.id} (${data.backbone.contentHash.slice(0, 12)})`);
  }
  const backend = await selectBackend(config.backend);
  const source = new LearnerExampleSource(data, backend);
  const { train, test } = await source.examples(model.spec);
  log.info('adapting', { from: model.path, round: model.round, train: train.n, test: test.n, steps: options.steps, learningRate, learningRateFrom });
  const measure = async (weights: NamedTensor[]) => {
    if (test.n === 0) return undefined;
    const { metrics } = await evaluate(model.spec, weights, test);
    return { accuracy: metrics.accuracy, macroF1: metrics.macroF1 };
  };
  const before = await measure(model.weights);
  let adapted: Awaited<ReturnType<typeof adaptLocally>>;
  try {
    adapted = await adaptLocally(model.spec, model.weights, train, { steps: options.steps, learningRate, optimizer: options.optimizer, seed: config.seed });
  } catch (err) {
    // The library's advice names the coordinator's --learning-rate; here the step size is this command's.
    if (err instanceof FedtlError && err.code === 'FEDTL_ERR_DIVERGED') {
      throw new FedtlError('FEDTL_ERR_DIVERGED', `the adaptation diverged with ${options.optimizer} steps of ${learningRate} (${learningRateFrom}): give a smaller --adapt-learning-rate`);
    }
    throw err;
  }
  const after = await measure(adapted.weights);
  await source.dispose();
  if (options.saveTo) await saveAdapted(options.saveTo, model, adapted.weights, { steps: options.steps, learningRate, optimizer: options.optimizer });
  return {
    source: model.path,
    round: model.round,
    labels: model.spec.labels,
    trainExamples: train.n,
    testExamples: test.n,
    steps: options.steps,
    learningRate,
    learningRateFrom,
    optimizer: options.optimizer,
    ...(before ? { before } : {}),
    ...(after ? { after } : {}),
    ...(options.saveTo ? { savedTo: resolve(options.saveTo) } : {}),
    seconds: (performance.now() - started) / 1000,
  };
}

/**
 * Refuses a --save-adapted path that would overwrite a file (a run's own checkpoint among them), that names a
 * checkpoint of a run directory (the next --init-from of that run would take it for the run's newest), or whose
 * directory does not exist.
 */
async function checkSaveTarget(path: string): Promise<void> {
  const target = resolve(path);
  const existing = await stat(target).catch(() => undefined);
  if (existing) throw configError('--save-adapted', 'a new file (it never overwrites)', `${target}, which exists${existing.isDirectory() ? ' as a directory' : ''}`);
  if (CHECKPOINT_FILE.test(basename(target))) {
    throw configError('--save-adapted', 'a name other than round-NNNNNN.ckpt (that name makes it a round of a run)', target);
  }
  const parent = await stat(dirname(target)).catch(() => undefined);
  if (!parent?.isDirectory()) throw configError('--save-adapted', 'a file in an existing directory', `${target} (no directory ${dirname(target)})`);
}

/** Writes the adapted weights as a checkpoint file (same format, so `--init-from` reads it), atomically. */
async function saveAdapted(path: string, model: PublishedModel, weights: NamedTensor[], adaptation: { steps: number; learningRate: number; optimizer: string }): Promise<void> {
  const meta = {
    runId: 'adapt-only',
    round: model.round,
    createdAt: new Date().toISOString(),
    adaptedFrom: model.path,
    adaptation,
    model: model.spec,
    ...(model.backbone ? { backbone: model.backbone } : {}),
    // A run seeded from this file inherits the federation's ledger (the weights spent it); the adaptation's own
    // steps on this client's data are plain SGD, outside any differential-privacy guarantee.
    ...(model.privacy !== undefined ? { privacy: model.privacy } : {}),
    strategyScalars: {},
  };
  const temp = `${path}.tmp-${process.pid}`;
  try {
    await writeFile(temp, encodeCheckpointFile({ meta, groups: { weights } }), { flag: 'wx' });
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `--save-adapted: could not write ${resolve(path)}: ${errorMessage(err)}`);
  }
}

/** The report as the lines `--adapt-only` prints. */
export function describeAdaptation(report: AdaptOnlyReport): string {
  const percent = (x: number) => `${(100 * x).toFixed(1)} %`;
  const lines = [
    `adapted ${report.source} (round ${report.round}, labels ${report.labels.join(',')}) with ${report.steps} ${report.optimizer} steps of ${report.learningRate} (${report.learningRateFrom}) on ${report.trainExamples} labelled examples`,
    report.before && report.after
      ? `test accuracy on ${report.testExamples} examples: ${percent(report.before.accuracy)} before, ${percent(report.after.accuracy)} after (macro-F1 ${report.before.macroF1.toFixed(3)} → ${report.after.macroF1.toFixed(3)})`
      : 'no test examples: nothing to evaluate',
    report.savedTo ? `adapted weights saved to ${report.savedTo}` : 'adapted weights not saved (--save-adapted FILE)',
    'nothing was sent: --adapt-only opens no connection',
  ];
  return `${lines.join('\n')}\n`;
}
