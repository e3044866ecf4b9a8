// Cross-task transfer (`--init-from`): a new run starts from another run's global weights instead of a fresh
// initialisation. Tensors are matched by name: the adapter must fit and is kept (a shape mismatch is a
// configuration error naming the tensor, both shapes and the flag to change); every other tensor of the same
// name and shape is kept, except the head's output layer (`head/out/*`), whose rows are the labels: it is kept
// only when the source's label set is known and equal, in order, to this run's, and re-initialised otherwise.
// Whatever is not kept takes this run's own initial value (`initialWeights(model, seed)`). The source's
// strategy state (server optimiser moments) is not carried over: it belongs to the old task's trajectory.
//
// What the source is known by: checkpoints record their model (labels) and backbone (content hash) since this
// file exists; for older ones the labels and backbone come from the run dir's summary.json when it names the
// same run, and when neither says, the head is re-initialised and only the adapter's input dimension is checked.
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { initialWeights } from '@fedtl/model';
import type { BackboneRef, LoraSpec, ModelSpec, NamedTensor } from '@fedtl/protocol';
import { FedtlError, configError, createLogger, errorMessage } from '@fedtl/util';
import { CheckpointStore, decodeCheckpoint, requireFinite, type Checkpoint } from './checkpoint-store';

const log = createLogger('init-from');

export interface InitFromSource {
  /** The checkpoint file the weights come from. */
  path: string;
  checkpoint: Checkpoint;
  /** The source's label set, in order, and where it was read; undefined when nothing records it. */
  labels?: string[];
  backbone?: BackboneRef;
  /** Where labels and backbone were read: the checkpoint, the run's summary.json, or nowhere. */
  describedBy: 'checkpoint' | 'summary' | 'nothing';
}

export interface InitFromResult {
  /** This run's initial weights, in its model's tensor order. */
  weights: NamedTensor[];
  source: InitFromSource;
  kept: string[];
  /** Tensors that take this run's fresh initial value, with why. */
  reinitialised: Array<{ name: string; reason: string }>;
  /** Source tensors this model has no use for (e.g. an adapter when --adapter-width is 0). */
  unused: string[];
  /** What was checked of the backbone. */
  backboneCheck: string;
}

const AXIS_FLAGS: Record<string, Array<'d' | 'w'>> = {
  'adapter/down/kernel': ['d', 'w'],
  'adapter/down/bias': ['w'],
  'adapter/up/kernel': ['w', 'd'],
  'adapter/up/bias': ['d'],
};

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((size, i) => size === b[i]);
}

/** Wraps a failure to read the source so that it names --init-from and the path. */
function sourceError(path: string, err: unknown): FedtlError {
  const code = err instanceof FedtlError ? err.code : 'FEDTL_ERR_BAD_CONFIG';
  const message = errorMessage(err);
  return new FedtlError(code, `--init-from: expected a valid checkpoint, got ${message.includes(path) ? message : `${path}: ${message}`}`, { path });
}

async function loadFile(path: string): Promise<Checkpoint> {
  try {
    const checkpoint = decodeCheckpoint(await readFile(path), path);
    requireFinite(checkpoint, path);
    return checkpoint;
  } catch (err) {
    throw sourceError(path, err);
  }
}

/** The run's summary.json, when it exists and describes the same run as the checkpoint. */
async function readSummary(runDir: string, runId: string): Promise<{ model?: ModelSpec; backbone?: BackboneRef } | undefined> {
  try {
    const summary = JSON.parse(await readFile(join(runDir, 'summary.json'), 'utf8')) as { runId?: string; model?: ModelSpec; backbone?: BackboneRef };
    return summary.runId === runId ? summary : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reads `--init-from`: a checkpoint file, or a run directory (its `checkpoints/` subdirectory, or a directory of
 * checkpoints itself), whose newest valid checkpoint is taken exactly as a resume would take it.
 * @throws FedtlError naming --init-from and the path when it is missing, holds no checkpoint or only unusable
 * ones, or the file is damaged (FEDTL_ERR_CHECKPOINT_CORRUPT) or not finite (FEDTL_ERR_NON_FINITE).
 */
export async function readInitFromSource(arg: string): Promise<InitFromSource> {
  const given = resolve(arg);
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(given)).isDirectory();
  } catch (err) {
    throw configError('--init-from', 'an existing checkpoint file or run directory', `${given} (${errorMessage(err)})`);
  }
  let path: string;
  let checkpoint: Checkpoint;
  let runDir: string;
  if (isDirectory) {
    const nested = join(given, 'checkpoints');
    const dir = await stat(nested).then((s) => s.isDirectory(), () => false) ? nested : given;
    runDir = dir === nested ? given : dirname(given);
    const store = new CheckpointStore(dir);
    let latest: Checkpoint | null;
    try {
      latest = await store.loadLatest();
    } catch (err) {
      throw sourceError(dir, err);
    }
    if (!latest) throw configError('--init-from', 'a run directory holding checkpoints (round-NNNNNN.ckpt)', `${dir} with none`);
    checkpoint = latest;
    path = store.pathFor(latest.round);
  } else {
    path = given;
    checkpoint = await loadFile(path);
    runDir = basename(dirname(path)) === 'checkpoints' ? dirname(dirname(path)) : dirname(path);
  }
  if (checkpoint.model) return { path, checkpoint, labels: checkpoint.model.labels, backbone: checkpoint.backbone, describedBy: 'checkpoint' };
  const summary = await readSummary(runDir, checkpoint.runId);
  if (summary?.model) return { path, checkpoint, labels: summary.model.labels, backbone: summary.backbone, describedBy: 'summary' };
  return { path, checkpoint, describedBy: 'nothing' };
}

/**
 * This run's initial weights from `source`: see the file header for what is kept.
 * @throws FedtlError FEDTL_ERR_BAD_CONFIG when the source was trained on another backbone (content hash), or an
 * adapter tensor is missing from it or has another shape, naming the tensor, both shapes and the flag to change.
 */
export function transferWeights(source: InitFromSource, model: ModelSpec, backbone: BackboneRef, seed: number): InitFromResult {
  let backboneCheck: string;
  if (source.backbone?.contentHash) {
    if (source.backbone.contentHash !== backbone.contentHash) {
      throw configError(
        '--backbone',
        `the backbone --init-from ${source.path} was trained on (${source.backbone.id}, content hash ${source.backbone.contentHash})`,
        `${backbone.id} (content hash ${backbone.contentHash})`,
      );
    }
    backboneCheck = `content hash ${backbone.contentHash} matches the source's`;
  } else {
    backboneCheck = `the source records no backbone: only its adapter's input dimension (${model.inputDim}) is checked`;
  }
  const byName = new Map(source.checkpoint.weights.map((t) => [t.name, t]));
  const sameLabels = source.labels !== undefined && source.labels.length === model.labels.length && source.labels.every((l, i) => l === model.labels[i]);
  const kept: string[] = [];
  const reinitialised: InitFromResult['reinitialised'] = [];
  const weights = initialWeights(model, seed).map((fresh) => {
    const from = byName.get(fresh.name);
    if (fresh.name.startsWith('adapter/')) {
      if (!from) {
        throw configError('--adapter-width', `0, or an adapter in --init-from ${source.path} (it has no tensor "${fresh.name}")`, model.adapterWidth);
      }
      if (!sameShape(from.shape, fresh.shape)) {
        const axes = AXIS_FLAGS[fresh.name] ?? [];
        const axis = fresh.shape.findIndex((size, i) => size !== from.shape[i]);
        const flag = axes[axis] === 'd' ? '--backbone' : '--adapter-width';
        const hint = flag === '--backbone' ? `a backbone of dimension ${from.shape[axes.indexOf('d')]}` : `--adapter-width ${from.shape[axes.indexOf('w')]}`;
        throw new FedtlError(
          'FEDTL_ERR_BAD_CONFIG',
          `${flag}: tensor "${fresh.name}" must be kept from --init-from ${source.path}: expected shape ${shapeText(from.shape)} (the source's), ` +
            `got ${shapeText(fresh.shape)} (this run's model); use ${hint}`,
          { name: fresh.name, flag, expected: from.shape.slice(), actual: fresh.shape.slice() },
        );
      }
    } else {
      let reason: string | undefined;
      if (!from) reason = 'not in the source';
      else if (!sameShape(from.shape, fresh.shape)) reason = `shape ${shapeText(from.shape)} in the source, ${shapeText(fresh.shape)} here`;
      else if (fresh.name.startsWith('head/out/') && !sameLabels) {
        reason = source.labels === undefined
          ? 'the source\'s label set is unknown (its checkpoint and run dir do not record it)'
          : `labels ${source.labels.join(',')} in the source, ${model.labels.join(',')} here`;
      }
      else if (fresh.name.startsWith('lora/')) reason = loraScaleMismatch(source.checkpoint.model?.lora, model.lora);
      if (reason !== undefined || !from) {
        reinitialised.push({ name: fresh.name, reason: reason ?? 'not in the source' });
        return fresh;
      }
    }
    kept.push(fresh.name);
    return { name: fresh.name, shape: fresh.shape, dtype: fresh.dtype, data: new Float32Array(from.data) };
  });
  const wanted = new Set(weights.map((t) => t.name));
  const unused = source.checkpoint.weights.map((t) => t.name).filter((name) => !wanted.has(name));
  return { weights, source, kept, reinitialised, unused, backboneCheck };
}

/**
 * Why a LoRA pair of the same shape cannot be kept: another scale α/r would multiply what it learned (W + (α/r)·A·B),
 * and a source whose scale is unknown cannot be checked. Undefined when the scales match.
 */
function loraScaleMismatch(source: LoraSpec | undefined, here: LoraSpec | undefined): string | undefined {
  if (!source || !here) return 'the source records no LoRA scale';
  const scale = (lora: LoraSpec) => lora.alpha / lora.rank;
  return scale(source) === scale(here) ? undefined : `LoRA scale α/r ${scale(source)} in the source, ${scale(here)} here`;
}

/** Reads the source, transfers its weights onto `model` and says in one log line what was kept and what not. */
export async function initFrom(arg: string, model: ModelSpec, backbone: BackboneRef, seed: number): Promise<InitFromResult> {
  const result = transferWeights(await readInitFromSource(arg), model, backbone, seed);
  const { source } = result;
  if (source.labels === undefined) {
    log.warn('--init-from: the source\'s label set is unknown, so the head\'s output layer is re-initialised', { source: source.path });
  }
  log.info('--init-from: starting from another run\'s global weights', {
    source: source.path,
    sourceRun: source.checkpoint.runId,
    sourceRound: source.checkpoint.round,
    kept: result.kept,
    reinitialised: result.reinitialised.map((r) => `${r.name} (${r.reason})`),
    ...(result.unused.length > 0 ? { unused: result.unused } : {}),
    backbone: result.backboneCheck,
  });
  return result;
}
