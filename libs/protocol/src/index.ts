export * from './domain';
export * from './codec';
export * from './tensor-codec';
export * from './validate';
export * from './events';
export * from './transport';
export * from './checkpoint-file';
export * from './field-limits';
