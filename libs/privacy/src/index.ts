export * from './fixed-point';
export * from './key-agreement';
export * from './mask-prg';
export * from './secagg-context';
