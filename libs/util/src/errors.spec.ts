import { runInNewContext } from 'node:vm';
import { ERROR_CODES, FedtlError, describeValue, errorMessage, isErrorCode, toFedtlError } from './errors';

describe('error catalogue', () => {
  it('names every code with the FEDTL_ERR_ prefix and a description', () => {
    for (const [code, description] of Object.entries(ERROR_CODES)) {
      expect(code).toMatch(/^FEDTL_ERR_[A-Z0-9_]+$/);
      expect(description.length).toBeGreaterThan(10);
    }
  });

  it('recognises catalogue codes only', () => {
    expect(isErrorCode('FEDTL_ERR_WRONG_ROUND')).toBe(true);
    expect(isErrorCode('FEDTL_ERR_NOPE')).toBe(false);
    expect(isErrorCode('toString')).toBe(false);
    expect(isErrorCode(42)).toBe(false);
  });

  it('keeps a FedtlError and wraps anything else as internal', () => {
    const original = new FedtlError('FEDTL_ERR_NON_FINITE', 'NaN at 3');
    expect(toFedtlError(original)).toBe(original);
    expect(toFedtlError(new Error('boom'))).toMatchObject({ code: 'FEDTL_ERR_INTERNAL', message: 'boom' });
    expect(toFedtlError('text')).toMatchObject({ code: 'FEDTL_ERR_INTERNAL', message: 'text' });
    // An Error from another realm (a worker thread, a test sandbox) keeps its message.
    expect(toFedtlError(runInNewContext("new Error('far away')"))).toMatchObject({ code: 'FEDTL_ERR_INTERNAL', message: 'far away' });
    expect(errorMessage(undefined)).toBe('undefined');
    expect(errorMessage({ message: 42 })).toBe('[object Object]');
  });

  it('describes unexpected values briefly, never dumping a payload', () => {
    expect(describeValue(null)).toBe('null');
    expect(describeValue([1, 2, 3])).toBe('array(3)');
    expect(describeValue(new Float32Array(4))).toBe('Float32Array(16 bytes)');
    expect(describeValue('x'.repeat(100))).toBe(`string "${'x'.repeat(40)}…"`);
    expect(describeValue(7)).toBe('number 7');
    expect(describeValue({ a: 1 })).toBe('object');
  });
});
