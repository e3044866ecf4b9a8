export * from './rpc-messages';
export * from './rpc-worker';
export * from './serve-rpc';
