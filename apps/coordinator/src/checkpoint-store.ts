// Checkpoints of the global trainable tensors, written after every aggregated round.
//
// The file format (with its checksum) is @fedtl/protocol's checkpoint-file.ts; this store maps a round's
// weights and strategy state onto it and owns the files. Writes are atomic (temp file, fsync, rename, fsync of
// the directory), so a crash leaves either the old or the new checkpoint, never half of one; the trailing
// checksum catches a file damaged any other way.
import { open, readdir, readFile, rename, mkdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { FedtlError, createLogger, errorMessage } from '@fedtl/util';
import { firstNonFinite } from '@fedtl/model';
import { decodeCheckpointFile, encodeCheckpointFile, type BackboneRef, type ModelSpec, type NamedTensor, type TrainingConfig } from '@fedtl/protocol';
import { PrivacyLedger, type PrivacyEvent } from '@fedtl/privacy';
import type { StrategyState } from '@fedtl/strategies';

const FILE_PATTERN = /^round-(\d{6})\.ckpt$/;
/** A checkpoint being written: `round-000003.ckpt.tmp-<pid>`. */
const TEMP_PATTERN = /^round-\d{6}\.ckpt\.tmp-\d+$/;
/** The group holding the global weights; a strategy's state tensors are in `state:<key>`. */
const WEIGHTS = 'weights';
const STATE_PREFIX = 'state:';

export interface Checkpoint {
  runId: string;
  /** Number of rounds completed when this checkpoint was taken. */
  round: number;
  configHash: string;
  weights: NamedTensor[];
  /** The strategy's server state (optimiser moments…); its tensors are stored like the weights. */
  strategyState: StrategyState;
  createdAt: string;
  /**
   * The model the weights belong to (its label set, in order) and the backbone they were trained on; recorded
   * so that `--init-from` can tell which tensors another task can reuse. Absent in checkpoints written before.
   */
  model?: ModelSpec;
  backbone?: BackboneRef;
  /**
   * The strategy's name and the last round's training config (learning rate, FedProx's μ, Per-FedAvg's α…): what
   * the clients did to reach these weights. Absent in checkpoints written before.
   */
  training?: TrainingConfig & { strategy: string };
  /** The run's privacy ledger up to this round (differential privacy on); resumed with the weights. */
  privacy?: PrivacyEvent[];
}

const log = createLogger('checkpoint');

export function encodeCheckpoint(checkpoint: Checkpoint): Buffer {
  const groups: Record<string, NamedTensor[]> = { [WEIGHTS]: checkpoint.weights };
  for (const [key, tensors] of Object.entries(checkpoint.strategyState.tensors)) groups[STATE_PREFIX + key] = tensors;
  const { runId, round, configHash, createdAt, model, backbone, training, privacy } = checkpoint;
  const described = { ...(model ? { model } : {}), ...(backbone ? { backbone } : {}), ...(training ? { training } : {}), ...(privacy ? { privacy } : {}) };
  return encodeCheckpointFile({ meta: { runId, round, configHash, createdAt, strategyScalars: checkpoint.strategyState.scalars, ...described }, groups });
}

export function decodeCheckpoint(bytes: Buffer, source = 'checkpoint'): Checkpoint {
  const { meta, groups } = decodeCheckpointFile(bytes, source);
  const stateTensors: Record<string, NamedTensor[]> = {};
  for (const [group, tensors] of Object.entries(groups)) {
    if (group.startsWith(STATE_PREFIX)) stateTensors[group.slice(STATE_PREFIX.length)] = tensors;
  }
  return {
    runId: meta.runId as string,
    round: meta.round as number,
    configHash: meta.configHash as string,
    strategyState: { scalars: meta.strategyScalars as Record<string, number>, tensors: stateTensors },
    createdAt: meta.createdAt as string,
    weights: groups[WEIGHTS] ?? [],
    ...(meta.model ? { model: meta.model as ModelSpec } : {}),
    ...(meta.backbone ? { backbone: meta.backbone as BackboneRef } : {}),
    ...(meta.training ? { training: meta.training as Checkpoint['training'] } : {}),
    // Validated here: a checkpoint whose ledger does not parse must not resume with a blank one.
    ...(meta.privacy !== undefined ? { privacy: ledgerOf(meta.privacy, source) } : {}),
  };
}

/** A checkpoint's ledger, validated: one that does not parse must not resume as a blank one. */
function ledgerOf(value: unknown, source: string): PrivacyEvent[] {
  try {
    return PrivacyLedger.fromJSON(value, 'privacy ledger').toJSON();
  } catch (err) {
    throw new FedtlError('FEDTL_ERR_CHECKPOINT_CORRUPT', `${source}: ${errorMessage(err)}`);
  }
}

/** Throws FEDTL_ERR_NON_FINITE naming `path`, the group and tensor when a weight or state value is not finite. */
export function requireFinite(checkpoint: Checkpoint, path: string): void {
  const groups: Array<[string, NamedTensor[]]> = [[WEIGHTS, checkpoint.weights], ...Object.entries(checkpoint.strategyState.tensors).map(([key, t]): [string, NamedTensor[]] => [STATE_PREFIX + key, t])];
  for (const [group, tensors] of groups) {
    const bad = firstNonFinite(tensors);
    if (bad) throw new FedtlError('FEDTL_ERR_NON_FINITE', `${path}: expected finite values, got ${bad.value} in ${group} tensor '${bad.tensor}' at index ${bad.index}`);
  }
  for (const [key, value] of Object.entries(checkpoint.strategyState.scalars)) {
    if (!Number.isFinite(value)) throw new FedtlError('FEDTL_ERR_NON_FINITE', `${path}: expected a finite strategy scalar "${key}", got ${value}`);
  }
}

export class CheckpointStore {
  constructor(
    readonly dir: string,
    /** How many checkpoints to keep; older ones are deleted after a successful write. */
    private readonly keep = 5,
  ) {}

  pathFor(round: number): string {
    return join(this.dir, `round-${String(round).padStart(6, '0')}.ckpt`);
  }

  async save(checkpoint: Checkpoint): Promise<string> {
    await mkdir(this.dir, { recursive: true });
    const target = this.pathFor(checkpoint.round);
    const temp = `${target}.tmp-${process.pid}`;
    try {
      const file = await open(temp, 'w');
      try {
        await file.writeFile(encodeCheckpoint(checkpoint));
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temp, target);
    } catch (err) {
      // A full or failing disk must not also leave half a checkpoint behind.
      await unlink(temp).catch(() => undefined);
      throw err;
    }
    await this.syncDirectory();
    await this.prune();
    return target;
  }

  /**
   * The newest checkpoint that passes its checksum and holds only finite weights and strategy state; damaged or
   * non-finite newer ones (a diverged model written before its check existed passes its checksum) are skipped
   * with a warning. Null when there is no checkpoint file at all (a new run).
   * @throws FedtlError FEDTL_ERR_NO_VALID_CHECKPOINT when checkpoint files exist but none is usable, naming
   * each file and why it failed: starting a new run over them would silently discard the old one.
   */
  async loadLatest(): Promise<Checkpoint | null> {
    const failures: string[] = [];
    for (const round of await this.rounds()) {
      const path = this.pathFor(round);
      try {
        const checkpoint = decodeCheckpoint(await readFile(path), path);
        requireFinite(checkpoint, path);
        return checkpoint;
      } catch (err) {
        failures.push(`${path}: ${errorMessage(err)}`);
        log.warn('skipping an unusable checkpoint', { path, error: errorMessage(err) });
      }
    }
    if (failures.length === 0) return null;
    throw new FedtlError(
      'FEDTL_ERR_NO_VALID_CHECKPOINT',
      `expected a usable checkpoint in ${this.dir} to resume from, but all ${failures.length} failed: ${failures.join('; ')}. ` +
        'Restore a good checkpoint, or start a new run with --fresh (which deletes these files)',
      { dir: this.dir, failures },
    );
  }

  /**
   * Deletes temp files left by a coordinator that crashed mid-write; returns their names. Call only while
   * holding the out-dir lock, when no other process can be writing one.
   */
  async removeStaleTempFiles(): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    const stale = names.filter((name) => TEMP_PATTERN.test(name));
    for (const name of stale) await unlink(join(this.dir, name));
    if (stale.length > 0) log.warn('removed temp files of an interrupted checkpoint write', { dir: this.dir, files: stale });
    return stale;
  }

  /** Completed-round numbers of the checkpoints on disk, newest first. */
  async rounds(): Promise<number[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    return names
      .map((name) => FILE_PATTERN.exec(name))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => b - a);
  }

  private async syncDirectory(): Promise<void> {
    const dir = await open(this.dir, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  private async prune(): Promise<void> {
    const rounds = await this.rounds();
    for (const round of rounds.slice(this.keep)) await unlink(this.pathFor(round)).catch(() => undefined);
  }
}
