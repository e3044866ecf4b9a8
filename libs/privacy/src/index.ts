export * from './fixed-point';
