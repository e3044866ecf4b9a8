import { fitFlopsModel, kernelFlops, textFlops } from './kernel-flops';

describe('kernelFlops', () => {
  it('counts 2·M·K·N for matrix products, transposed or batched, and 2·Kh·Kw·Cin per conv output', () => {
    expect(kernelFlops({ name: 'BatchMatMul', inputShapes: [[131, 256], [256, 512]], outputShapes: [[131, 512]] })).toBe(2 * 131 * 256 * 512);
    expect(kernelFlops({ name: 'BatchMatMul', inputShapes: [[2, 4, 128, 64], [2, 4, 128, 64]], outputShapes: [[2, 4, 128, 128]] })).toBe(2 * 2 * 4 * 128 * 128 * 64);
    expect(kernelFlops({ name: 'BatchMatMul', inputShapes: [[3, 7, 5], [3, 7, 9]], outputShapes: [[3, 5, 9]] })).toBe(2 * 3 * 5 * 9 * 7);
    expect(kernelFlops({ name: 'Conv2D', inputShapes: [[2, 128, 1, 256], [1, 1, 256, 768]], outputShapes: [[2, 128, 1, 768]] })).toBe(2 * 2 * 128 * 768 * 256);
    expect(kernelFlops({ name: 'Softmax', inputShapes: [[8, 8]], outputShapes: [[8, 8]] })).toBe(0);
  });
});

describe('fitFlopsModel', () => {
  it('recovers a quadratic from three points and clips at the graph’s token bound', () => {
    const flops = (n: number) => 1000 + 300 * n + 7 * n * n;
    const model = fitFlopsModel([1, 64, 128].map((tokens) => ({ tokens, flops: flops(tokens) })), 128);
    expect(textFlops(model, 37)).toBeCloseTo(flops(37), 6);
    expect(textFlops(model, 0)).toBeCloseTo(flops(1), 6);
    expect(textFlops(model, 256)).toBeCloseTo(flops(128), 6);
    expect(() => fitFlopsModel([{ tokens: 1, flops: 1 }], 128)).toThrow(RangeError);
  });
});
