import { parseLoadOptions } from './load-options';

describe('parseLoadOptions', () => {
  it('parses and validates its flags', () => {
    expect(parseLoadOptions([])).toMatchObject({ clients: [10, 100, 500], rounds: 3, adapterWidth: 32, compareAdapterWidth: 256 });
    expect(parseLoadOptions(['--clients', '50,5', '--out', 'r.json'])).toMatchObject({ clients: [5, 50], out: 'r.json' });
    expect(() => parseLoadOptions(['--clients', '10,x'])).toThrow(/--clients: expected an integer >= 1, got "x"/);
    expect(() => parseLoadOptions(['--adapter-width', '64', '--compare-adapter-width', '32'])).toThrow(RangeError);
  });
});
