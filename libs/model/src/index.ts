export * from './backend';
export { MIN_MULTIPLY_ADDS, WASM_BATCH_MATMUL_TESTED_VERSION, useStockWasmBatchMatMul } from './wasm-batch-matmul';
export * from './backbone';
export * from './trainable';
export * from './precomputed';
export * from './backbone-ref';
export type { ProgressCallback } from './progress-callback';
