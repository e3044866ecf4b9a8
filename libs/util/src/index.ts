export * from './config-values';
export * from './errors';
export * from './logger';
export * from './random';
export * from './secrets';
export * from './typed-arrays';
export * from './untrusted-text';
export * from './worker';
