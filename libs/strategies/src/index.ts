export * from './strategy';
export * from './aggregate';
export * from './tensor-layout';
export * from './sampling';
export * from './fedavg';
export * from './fedopt';
export * from './fedavgm';
export * from './fedadam';
