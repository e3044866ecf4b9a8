// Reading a TF.js model directory (model.json + weight shards) from disk into memory. `tf.io.fromMemory` then
// loads it: the file:// and http:// handlers are unavailable or unwanted here, and hashing needs the bytes anyway.
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import { FedtlError } from '@fedtl/util';
import { readNamedFiles, toArrayBuffer, type NamedBytes } from './content-hash';

export const MODEL_FILE = 'model.json';

export interface ModelJson {
  modelTopology: object;
  weightsManifest: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }>;
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
}

export interface ModelFiles {
  /** model.json as read, then its shards in manifest order. */
  files: NamedBytes[];
  modelJson: ModelJson;
}

/** model.json and its parsed form; the shards are not read. */
export async function readModelJson(dir: string): Promise<{ bytes: Buffer; modelJson: ModelJson }> {
  const file = path.join(dir, MODEL_FILE);
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `cannot read the TF.js model ${file}: ${(err as Error).message}`);
  }
  let parsed: Partial<ModelJson>;
  try {
    parsed = JSON.parse(bytes.toString('utf8')) as Partial<ModelJson>;
  } catch (err) {
    throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `${file} is not JSON: ${(err as Error).message}`);
  }
  if (typeof parsed.modelTopology !== 'object' || parsed.modelTopology === null || !Array.isArray(parsed.weightsManifest)) {
    throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `${file} should hold a modelTopology object and a weightsManifest array`);
  }
  return { bytes, modelJson: parsed as ModelJson };
}

export function shardPaths(modelJson: ModelJson): string[] {
  return modelJson.weightsManifest.flatMap((group) => group.paths);
}

export async function readModelFiles(dir: string): Promise<ModelFiles> {
  const { bytes, modelJson } = await readModelJson(dir);
  const shards = await readNamedFiles(dir, shardPaths(modelJson));
  return { files: [{ name: MODEL_FILE, bytes }, ...shards], modelJson };
}

/** The artifacts `tf.io.fromMemory` takes; shards stay separate buffers (TF.js joins them as needed). */
export function toModelArtifacts({ files, modelJson }: ModelFiles): tf.io.ModelArtifacts {
  return {
    modelTopology: modelJson.modelTopology,
    weightSpecs: modelJson.weightsManifest.flatMap((group) => group.weights),
    weightData: files.slice(1).map((shard) => toArrayBuffer(shard.bytes)),
    format: modelJson.format,
    generatedBy: modelJson.generatedBy,
    convertedBy: modelJson.convertedBy,
  };
}
