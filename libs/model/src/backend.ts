// The one place that registers and chooses the TensorFlow.js backend, and logs the choice once.
//
// Order of preference: the native TensorFlow binding (`@tensorflow/tfjs-node-gpu`, then `@tensorflow/tfjs-node`;
// both register the backend 'tensorflow'), then WebAssembly (`@tensorflow/tfjs-backend-wasm`), then plain
// JavaScript ('cpu'). The native packages are optional: they are loaded with a guarded require, so a machine
// where they cannot install still runs, on wasm.
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { FedtlError, createLogger } from '@fedtl/util';
import { installWasmBatchMatMul } from './wasm-batch-matmul';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

export const BACKEND_NAMES: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];

/** Which backend runs, and which package provides it (two packages provide 'tensorflow'). */
export interface BackendChoice {
  name: BackendName;
  provider: string;
}

const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;
const WASM_PACKAGE = '@tensorflow/tfjs-backend-wasm';

const log = createLogger('backend');

let selection: Promise<BackendChoice> | undefined;
let chosen: BackendChoice | undefined;

/**
 * Chooses the backend (once per process) and returns its name. Without `preferred`, takes the first backend of
 * tensorflow > wasm > cpu that initialises. With `preferred`, takes that one or rejects with
 * FEDTL_ERR_BAD_CONFIG saying why it is unavailable. Later calls return the same choice; asking for another
 * backend after one was chosen is a programmer error and rejects too.
 */
export async function selectBackend(preferred?: BackendName): Promise<BackendName> {
  if (preferred !== undefined && !BACKEND_NAMES.includes(preferred)) {
    throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `backend must be one of ${BACKEND_NAMES.join(', ')}; got "${String(preferred)}"`);
  }
  if (selection === undefined) {
    selection = choose(preferred);
    selection.catch(() => (selection = undefined));
  }
  const choice = await selection;
  if (preferred !== undefined && choice.name !== preferred) {
    throw new FedtlError(
      'FEDTL_ERR_BAD_CONFIG',
      `backend "${preferred}" was requested, but "${choice.name}" was already selected in this process`,
      { selected: choice.name, requested: preferred },
    );
  }
  return choice.name;
}

/** The backend chosen so far, or undefined before `selectBackend` has finished. */
export function selectedBackend(): BackendChoice | undefined {
  return chosen;
}

async function choose(preferred: BackendName | undefined): Promise<BackendChoice> {
  const order = preferred === undefined ? BACKEND_NAMES : [preferred];
  const reasons: string[] = [];
  for (const name of order) {
    const attempt = await tryBackend(name);
    if ('provider' in attempt) {
      chosen = { name, provider: attempt.provider };
      // Production mode: skips tfjs-core's debug-time checks and its console nag about tfjs-node, since our
      // own log line below already names the backend and how to get a faster one.
      tf.enableProdMode();
      const hint = name === 'tensorflow' ? {} : { faster: 'install @tensorflow/tfjs-node-gpu (CUDA) or @tensorflow/tfjs-node' };
      log.info('backend selected', { backend: name, provider: attempt.provider, ...(preferred ? { preferred } : {}), ...hint });
      return chosen;
    }
    reasons.push(`${name}: ${attempt.reason}`);
    log.debug('backend unavailable', { backend: name, reason: attempt.reason });
  }
  throw new FedtlError(
    'FEDTL_ERR_BAD_CONFIG',
    preferred === undefined
      ? `no TensorFlow.js backend could be initialised (${reasons.join('; ')})`
      : `backend "${preferred}" is unavailable: ${reasons.join('; ')}`,
  );
}

type Attempt = { provider: string } | { reason: string };

async function tryBackend(name: BackendName): Promise<Attempt> {
  switch (name) {
    case 'tensorflow':
      return tryNative();
    case 'wasm':
      return tryWasm();
    case 'cpu':
      return (await activate('cpu')) ? { provider: '@tensorflow/tfjs-backend-cpu' } : { reason: 'setBackend failed' };
  }
}

async function tryNative(): Promise<Attempt> {
  const reasons: string[] = [];
  for (const pkg of NATIVE_PACKAGES) {
    const loaded = requireOptional(pkg);
    if (loaded !== true) {
      reasons.push(`${pkg} ${loaded}`);
      continue;
    }
    if (await activate('tensorflow')) return { provider: pkg };
    reasons.push(`${pkg} loaded but its backend did not initialise`);
  }
  return { reason: reasons.join(', ') };
}

async function tryWasm(): Promise<Attempt> {
  // Imported here, not at the top: importing the package registers 'wasm' above 'cpu', and from then on any
  // tensor created before `await selectBackend()` would throw "not yet initialized". Until a backend is
  // selected, tensors live on cpu.
  let wasm: typeof import('@tensorflow/tfjs-backend-wasm');
  try {
    wasm = await import('@tensorflow/tfjs-backend-wasm');
  } catch (err) {
    return { reason: `${WASM_PACKAGE} could not be loaded: ${(err as Error).message}` };
  }
  if (!wasmConfigured) {
    // A file path, not a URL: in Node the Emscripten loader reads the binary from disk, nothing is fetched.
    wasm.setWasmPaths(path.join(path.dirname(require.resolve(`${WASM_PACKAGE}/package.json`)), 'dist') + path.sep);
    // TF.js never picks the multi-threaded wasm binary under Node (tfjs issue #3830), so XNNPACK runs on one
    // thread whatever we ask; saying 1 keeps it that way if that changes, because our parallelism is one
    // worker thread per core in the embedding pool and more threads per worker would oversubscribe the cores.
    wasm.setThreadsCount(1);
    wasmConfigured = true;
  }
  if (!(await activate('wasm'))) return { reason: 'the wasm binary did not initialise' };
  installWasmBatchMatMul(wasm.version_wasm);
  return { provider: WASM_PACKAGE };
}

let wasmConfigured = false;

/** true when loaded; otherwise a short reason. Native bindings fail to load on machines without their libraries. */
function requireOptional(pkg: string): true | string {
  try {
    require(pkg);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'MODULE_NOT_FOUND' ? 'is not installed' : `failed to load: ${(err as Error).message}`;
  }
}

async function activate(name: string): Promise<boolean> {
  if (tf.findBackendFactory(name) === null) return false;
  try {
    return (await tf.setBackend(name)) && tf.getBackend() === name;
  } catch {
    return false;
  }
}
