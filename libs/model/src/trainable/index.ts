export * from './trainable-spec';
export * from './adapter-head-model';
export * from './local-training';
export * from './evaluation';
export * from './divergence';
export * from './adaptation';
export * from './dp-sgd';
