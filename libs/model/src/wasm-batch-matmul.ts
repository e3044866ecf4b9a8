// Batched matrix products on the wasm backend at XNNPACK's speed, for attention.
//
// tfjs-backend-wasm 4.22's BatchMatMul kernel (src/cc/batch_mat_mul_impl.cc) calls XNNPACK only for a single
// matrix pair without transposes; anything batched or transposed falls to a scalar blocked triple loop at about
// 1.9 GFLOP/s, against about 25 GFLOP/s for XNNPACK on the same core. A Transformer's attention is exactly that
// case: per head, Q·Kᵀ and softmax(…)·V are a batch of [n, d] products (use-lite: 4 heads per text per layer),
// and on use-lite they took 25–31 % of an embedding's time at 4 % of its arithmetic (bench embedding, profile).
//
// This kernel keeps the stock kernel's contract and result, and only changes how the work is dispatched: it
// transposes what needs transposing once (the wasm Transpose kernel), then runs the stock C function once per
// matrix of the batch on views of the same heap memory (registered with the backend's C++ tensor table, never
// copied, never freed through JavaScript), so each product takes XNNPACK's path. Measured on this repository's
// 2-core machine: 8.7× faster at [64, 128, 64]·[64, 64, 128], 2.5× at 16×16×64, break-even near 8×8×64; each
// matrix costs an XNNPACK operator and a packing of B, which thin products (m or n of 1, or batches of 8×32
// matrices) do not repay. So only products of at least MIN_ROWS rows and columns and MIN_MULTIPLY_ADDS per
// matrix take this path; smaller ones, empty ones and broadcast batches stay with the stock kernel.
//
// It relies on the backend's internals (dataIdMap, the C++ register_tensor/dispose_data pair and the
// 'BatchMatMul' C export), so it is installed only for the exact tfjs-backend-wasm version it was written and
// tested against; any other version keeps the stock kernel.
import * as tf from '@tensorflow/tfjs-core';
import { createLogger } from '@fedtl/util';

/** The tfjs-backend-wasm version whose internals this kernel was written and tested against. */
export const WASM_BATCH_MATMUL_TESTED_VERSION = '4.22.0';

/** Per-matrix products below this many multiply-adds (m·k·n) run faster in the stock loop than through XNNPACK. */
export const MIN_MULTIPLY_ADDS = 16384;

/** Products with fewer rows (m) or columns (n) than this stay with the stock kernel (thin products lose). */
export const MIN_ROWS = 16;

const log = createLogger('backend');

interface WasmModule {
  cwrap(name: string, returns: null, args: string[]): (...args: unknown[]) => void;
  tfjs: { registerTensor(id: number, size: number, memoryOffset: number): void; disposeData(id: number): void };
}

interface WasmBackendInternals {
  wasm: WasmModule;
  dataIdMap: { get(dataId: object): { memoryOffset: number } };
  dataIdNextNumber: number;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  disposeData(dataId: object): boolean;
}

type CBatchMatMul = (aId: number, aShape: Uint8Array, aRank: number, bId: number, bShape: Uint8Array, bRank: number, transposeA: boolean, transposeB: boolean, outId: number) => void;

let stockKernel: tf.KernelFunc | undefined;
let cBatchMatMul: CBatchMatMul | undefined;
let installed = false;

/**
 * Makes the wasm backend's BatchMatMul run batched and transposed products through XNNPACK (see the file's
 * header), in this thread. Call after the wasm backend is initialised; idempotent. Returns whether the fast kernel
 * is now in place: false when `wasmVersion` is not WASM_BATCH_MATMUL_TESTED_VERSION or 'wasm' has no BatchMatMul.
 */
export function installWasmBatchMatMul(wasmVersion: string): boolean {
  if (installed) return true;
  if (wasmVersion !== WASM_BATCH_MATMUL_TESTED_VERSION) {
    log.debug('stock wasm BatchMatMul kept', { wasmVersion, testedWith: WASM_BATCH_MATMUL_TESTED_VERSION });
    return false;
  }
  const stock = tf.getKernel('BatchMatMul', 'wasm');
  const backend = tf.findBackend('wasm') as unknown as WasmBackendInternals | null;
  if (!stock || !backend) return false;
  stockKernel = stock.kernelFunc;
  cBatchMatMul = backend.wasm.cwrap('BatchMatMul', null, ['number', 'array', 'number', 'number', 'array', 'number', 'number', 'number', 'number']) as CBatchMatMul;
  replaceKernel(batchMatMulThroughXnnpack);
  installed = true;
  return true;
}

/**
 * Puts the stock kernel back (true) or the fast one again (false), for a benchmark's baseline or a test's
 * reference. A no-op until `installWasmBatchMatMul` has succeeded.
 */
export function useStockWasmBatchMatMul(stock: boolean): void {
  if (!installed || !stockKernel) return;
  replaceKernel(stock ? stockKernel : batchMatMulThroughXnnpack);
}

function replaceKernel(kernelFunc: tf.KernelFunc): void {
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel({ kernelName: 'BatchMatMul', backendName: 'wasm', kernelFunc });
}

function batchMatMulThroughXnnpack(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const stock = stockKernel as tf.KernelFunc;
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
  const backend = args.backend as unknown as WasmBackendInternals;
  const rank = a.shape.length;
  const batch = sizeOf(a.shape.slice(0, -2));
  const m = a.shape[rank - (transposeA ? 1 : 2)];
  const k = a.shape[rank - (transposeA ? 2 : 1)];
  const n = b.shape[rank - (transposeB ? 2 : 1)];
  const innerB = b.shape[rank - (transposeB ? 1 : 2)];
  // Mismatched inner sizes go to the stock kernel too, which throws tfjs's own error for them.
  const sameBatch = b.shape.length === rank && innerB === k && a.shape.slice(0, -2).every((size, axis) => size === b.shape[axis]);
  // The stock kernel already uses XNNPACK for one plain product, and handles broadcasting and non-float data.
  const stockIsFine = batch <= 1 && !transposeA && !transposeB;
  const large = batch > 0 && m >= MIN_ROWS && n >= MIN_ROWS && k > 0 && m * k * n >= MIN_MULTIPLY_ADDS;
  if (stockIsFine || !sameBatch || a.dtype !== 'float32' || b.dtype !== 'float32' || !large) {
    return stock(args) as tf.TensorInfo;
  }

  const plainA = transposeA ? swapLastAxes(a, backend) : a;
  let plainB: tf.TensorInfo;
  try {
    plainB = transposeB ? swapLastAxes(b, backend) : b;
  } catch (err) {
    if (plainA !== a) backend.disposeData(plainA.dataId);
    throw err;
  }
  const out = backend.makeOutput([...a.shape.slice(0, -2), m, n], 'float32');
  const offsetA = backend.dataIdMap.get(plainA.dataId).memoryOffset;
  const offsetB = backend.dataIdMap.get(plainB.dataId).memoryOffset;
  const offsetOut = backend.dataIdMap.get(out.dataId).memoryOffset;
  const shapeA = new Uint8Array(new Int32Array([1, m, k]).buffer);
  const shapeB = new Uint8Array(new Int32Array([1, k, n]).buffer);
  const { registerTensor, disposeData } = backend.wasm.tfjs;
  const run = cBatchMatMul as CBatchMatMul;
  for (let i = 0; i < batch; i++) {
    // Views: entries in the C++ tensor table that point into the batched tensors. Disposing them through the C++
    // side only drops the entries (and the XNNPACK operator cached on B's id); the memory stays with its owner.
    const idA = backend.dataIdNextNumber++;
    const idB = backend.dataIdNextNumber++;
    const idOut = backend.dataIdNextNumber++;
    registerTensor(idA, m * k, offsetA + i * m * k * 4);
    registerTensor(idB, k * n, offsetB + i * k * n * 4);
    registerTensor(idOut, m * n, offsetOut + i * m * n * 4);
    run(idA, shapeA, 3, idB, shapeB, 3, false, false, idOut);
    disposeData(idA);
    disposeData(idB);
    disposeData(idOut);
  }
  if (plainA !== a) backend.disposeData(plainA.dataId);
  if (plainB !== b) backend.disposeData(plainB.dataId);
  return out;
}

/** x with its last two axes swapped, as a new tensor on the backend (the stock Transpose kernel). */
function swapLastAxes(x: tf.TensorInfo, backend: WasmBackendInternals): tf.TensorInfo {
  const perm = x.shape.map((_, axis) => axis);
  perm[perm.length - 1] = perm.length - 2;
  perm[perm.length - 2] = perm.length - 1;
  const transpose = tf.getKernel('Transpose', 'wasm');
  if (!transpose) throw new Error('the wasm backend has no Transpose kernel');
  return transpose.kernelFunc({ inputs: { x }, attrs: { perm }, backend: backend as unknown as tf.KernelBackend }) as tf.TensorInfo;
}

function sizeOf(shape: number[]): number {
  return shape.reduce((product, size) => product * size, 1);
}
