// Test support for secure aggregation: statistical checks of what a masked vector reveals.
export { byteHistogram, chiSquareUniformity, type ChiSquareResult } from './chi-square';
