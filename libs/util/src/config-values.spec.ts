import { parseInteger, parseIntegerList, parseOneOf, parsePositiveNumber, refuseRepeatedOptions } from './config-values';

describe('config values', () => {
  it('parses valid values', () => {
    expect(parseInteger('--rounds', '5', 1)).toBe(5);
    expect(parsePositiveNumber('--fraction-fit', '0.5', 1)).toBe(0.5);
    expect(parseOneOf('--head', 'mlp', ['linear', 'mlp'] as const)).toBe('mlp');
    expect(parseIntegerList('--clients', '10, 100,500', 1)).toEqual([10, 100, 500]);
  });

  it('names the option, the expectation and what came', () => {
    expect(() => parseInteger('--rounds', '2.5', 1)).toThrow('--rounds: expected an integer >= 1, got "2.5"');
    expect(() => parsePositiveNumber('--fraction-fit', '1.5', 1)).toThrow('--fraction-fit: expected a number in (0, 1], got "1.5"');
    expect(() => parseOneOf('--head', 'cnn', ['linear', 'mlp'])).toThrow('--head: expected one of linear|mlp, got "cnn"');
    expect(() => parseIntegerList('--clients', '10,,20', 1)).toThrow(expect.objectContaining({ code: 'FEDTL_ERR_BAD_CONFIG' }));
  });
});

describe('refuseRepeatedOptions', () => {
  it('refuses an option given twice, in either spelling, and lets single ones and values after -- through', () => {
    expect(() => refuseRepeatedOptions(['--a', '1', '--b', '2'], ['a', 'b'])).not.toThrow();
    expect(() => refuseRepeatedOptions(['--a', '1', '--a=2'], ['a'])).toThrow('--a: expected it once, got "2 times"');
    expect(() => refuseRepeatedOptions(['--flag', '--flag'], ['flag'])).toThrow(expect.objectContaining({ code: 'FEDTL_ERR_BAD_CONFIG' }));
    expect(() => refuseRepeatedOptions(['--a', '1', '--', '--a'], ['a'])).not.toThrow();
    expect(() => refuseRepeatedOptions(['--ab', '1', '--a', '2'], ['a'])).not.toThrow();
  });
});
