import * as tf from '@tensorflow/tfjs-core';
import { configureLogging } from '@fedtl/util';
import { selectBackend } from './backend';
import { loadUseLite } from './backbone/use-lite';
import { useStockWasmBatchMatMul } from './wasm-batch-matmul';

/** a·b (with the transposes) on the stock kernel and on fedtl's, as plain arrays, and the largest difference. */
function bothKernels(aShape: number[], bShape: number[], transposeA: boolean, transposeB: boolean) {
  return tf.tidy(() => {
    const a = tf.randomNormal(aShape, 0, 1, 'float32', 1);
    const b = tf.randomNormal(bShape, 0, 1, 'float32', 2);
    useStockWasmBatchMatMul(true);
    const stock = tf.matMul(a, b, transposeA, transposeB);
    useStockWasmBatchMatMul(false);
    const fast = tf.matMul(a, b, transposeA, transposeB);
    const scale = stock.size === 0 ? 0 : tf.max(tf.abs(stock)).dataSync()[0];
    const maxDifference = stock.size === 0 ? 0 : tf.max(tf.abs(tf.sub(stock, fast))).dataSync()[0];
    return { stockShape: stock.shape, fastShape: fast.shape, maxDifference, scale };
  });
}

describe('BatchMatMul on wasm through XNNPACK', () => {
  beforeAll(async () => {
    configureLogging({ level: 'warn' });
    await selectBackend('wasm');
  });
  afterEach(() => useStockWasmBatchMatMul(false));

  it.each([
    ['batched, plain', [16, 32, 64], [16, 64, 24], false, false],
    ['batched, B transposed (attention Q·Kᵀ)', [16, 40, 64], [16, 40, 64], false, true],
    ['batched, A transposed (a gradient)', [8, 64, 32], [8, 64, 48], true, false],
    ['batched, both transposed', [8, 64, 32], [8, 48, 64], true, true],
    ['rank 4 (batch × heads)', [2, 8, 33, 64], [2, 8, 64, 33], false, false],
    ['one matrix, B transposed', [1, 128, 64], [1, 96, 64], false, true],
    ['broadcast batch (stock kernel)', [1, 32, 64], [4, 64, 32], false, false],
    ['below the threshold (stock kernel)', [64, 4, 64], [64, 64, 4], false, false],
    ['thin: one row and column (stock kernel)', [8, 1, 8192], [8, 8192, 1], false, false],
    ['empty batch, transposed (stock kernel)', [0, 64, 128], [0, 64, 128], false, true],
    ['empty rows, transposed (stock kernel)', [2, 0, 128], [2, 64, 128], false, true],
  ])('%s: same shape and values as the stock kernel', (_, aShape, bShape, transposeA, transposeB) => {
    const { stockShape, fastShape, maxDifference, scale } = bothKernels(aShape, bShape, transposeA, transposeB);
    expect(fastShape).toEqual(stockShape);
    // Only the order of float32 additions differs.
    expect(maxDifference).toBeLessThanOrEqual(1e-6 * scale * Math.max(aShape[aShape.length - 1], aShape[aShape.length - 2]));
  });

  it('refuses mismatched inner sizes as the stock kernel does', () => {
    const a = tf.zeros([4, 32, 64]);
    const b = tf.zeros([4, 48, 32]);
    expect(() => tf.matMul(a, b)).toThrow(/inner shapes/);
    tf.dispose([a, b]);
  });

  it('is the kernel the wasm backend runs once selectBackend has chosen wasm', () => {
    expect(tf.getKernel('BatchMatMul', 'wasm')?.kernelFunc.name).toBe('batchMatMulThroughXnnpack');
    useStockWasmBatchMatMul(true);
    expect(tf.getKernel('BatchMatMul', 'wasm')?.kernelFunc.name).not.toBe('batchMatMulThroughXnnpack');
  });

  it('leaves no tensor and does not grow the wasm heap over many products (views and operators are released)', () => {
    const heap = () => (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.byteLength;
    const a = tf.randomNormal([64, 128, 64]);
    const b = tf.randomNormal([64, 128, 64]);
    const product = () => tf.matMul(a, b, false, true).dispose();
    for (let i = 0; i < 20; i++) product();
    const tensors = tf.memory().numTensors;
    const heapBefore = heap();
    // A leaked view or XNNPACK operator would keep 64 packed copies of B (2 MiB) per product: 160 MiB here.
    for (let i = 0; i < 80; i++) product();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(heap() - heapBefore).toBeLessThan(32 * 1024 * 1024);
    a.dispose();
    b.dispose();
  });

  it('leaves use-lite embeddings as the stock kernel computes them (within 1e-5)', async () => {
    const backbone = await loadUseLite({ backend: 'wasm' });
    try {
      const texts = ['', 'ok', 'The plot was thin but the characters stayed with me for weeks.', 'word '.repeat(300)];
      useStockWasmBatchMatMul(true);
      const stock = await backbone.embed(texts);
      useStockWasmBatchMatMul(false);
      const fast = await backbone.embed(texts);
      const maxDifference = stock.reduce((max, value, i) => Math.max(max, Math.abs(value - fast[i])), 0);
      expect(maxDifference).toBeLessThan(1e-5);
    } finally {
      backbone.dispose();
    }
  });
});
