export * from './backend';
export * from './backbone';
export * from './trainable';
export * from './precomputed';
export * from './backbone-ref';
export type { ProgressCallback } from './progress-callback';
