// One entry point from a backbone spec string (as configs and the command line give it) to a backbone, or to its
// BackboneRef without loading anything (the coordinator needs the hash cheaply at start).
import type { BackboneRef } from '@fedtl/protocol';
import { FedtlError } from '@fedtl/util';
import type { BackendName } from '../backend';
import type { Backbone } from './backbone';
import { TFJS_MODEL_PREFIX, loadTfjsModel, tfjsModelFingerprint } from './tfjs-model';
import { USE_LITE_ID, loadUseLite, useLiteFingerprint } from './use-lite';

export type BackboneSpec = { kind: 'use-lite' } | { kind: 'tfjs-model'; dir: string };

export interface LoadBackboneOptions {
  /** Backend to insist on; default: whatever `selectBackend` chooses. */
  backend?: BackendName;
  /** Texts per forward pass; default: the backbone's own. Does not change the features. */
  batchSize?: number;
}

/** `use-lite` or `tfjs-model:<dir>`. */
export function parseBackboneSpec(spec: string): BackboneSpec {
  if (spec === USE_LITE_ID) return { kind: 'use-lite' };
  if (spec.startsWith(TFJS_MODEL_PREFIX) && spec.length > TFJS_MODEL_PREFIX.length) {
    return { kind: 'tfjs-model', dir: spec.slice(TFJS_MODEL_PREFIX.length) };
  }
  throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `backbone must be "${USE_LITE_ID}" or "${TFJS_MODEL_PREFIX}<directory>"; got "${spec}"`);
}

export async function loadBackbone(spec: string, options: LoadBackboneOptions = {}): Promise<Backbone> {
  const parsed = parseBackboneSpec(spec);
  return parsed.kind === 'use-lite' ? loadUseLite(options) : loadTfjsModel(parsed.dir, options);
}

export async function fingerprintBackbone(spec: string): Promise<BackboneRef> {
  const parsed = parseBackboneSpec(spec);
  return parsed.kind === 'use-lite' ? useLiteFingerprint() : tfjsModelFingerprint(parsed.dir);
}
