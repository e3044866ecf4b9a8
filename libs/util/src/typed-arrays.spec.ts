import { runInNewContext } from 'node:vm';
import { isArrayBuffer, isFloat32Array, isInt32Array } from './typed-arrays';

describe('realm-independent type tests', () => {
  it('recognise typed arrays and buffers made in another realm, where instanceof fails', () => {
    const foreign = runInNewContext('({ floats: new Float32Array(3), ints: new Int32Array(2), buffer: new ArrayBuffer(4) })') as Record<string, unknown>;
    expect(foreign.floats instanceof Float32Array).toBe(false);
    expect(isFloat32Array(foreign.floats)).toBe(true);
    expect(isInt32Array(foreign.ints)).toBe(true);
    expect(foreign.buffer instanceof ArrayBuffer).toBe(false);
    expect(isArrayBuffer(foreign.buffer)).toBe(true);
  });

  it('refuse look-alikes', () => {
    expect(isFloat32Array(new Float64Array(3))).toBe(false);
    expect(isFloat32Array([1, 2, 3])).toBe(false);
    expect(isInt32Array(new Float32Array(2))).toBe(false);
    expect(isFloat32Array({ length: 3, constructor: Float32Array })).toBe(false);
    expect(isFloat32Array({ [Symbol.toStringTag]: 'Float32Array' })).toBe(false);
    expect(isInt32Array({ [Symbol.toStringTag]: 'Int32Array' })).toBe(false);
    expect(isArrayBuffer(new Uint8Array(4))).toBe(false);
    expect(isArrayBuffer(null)).toBe(false);
  });
});
