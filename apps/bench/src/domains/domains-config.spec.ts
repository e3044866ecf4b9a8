import { DOMAINS_DEFAULTS, METHOD_NAMES, parseDomainsArgs } from './domains-config';

describe('parseDomainsArgs', () => {
  it('applies the documented defaults', () => {
    const options = parseDomainsArgs(['--data-dir', 'd', '--out', 'o']);
    if (options === 'help') throw new Error('unexpected help');
    expect(options.labelsPerClient).toEqual(DOMAINS_DEFAULTS.labelsPerClient);
    expect(options.rounds).toBe(DOMAINS_DEFAULTS.rounds);
    expect(options.methods).toEqual(METHOD_NAMES);
    expect(options.validate).toBe(false);
    expect(options.training).toEqual(DOMAINS_DEFAULTS.training);
  });

  it('reads a budget list as a sweep, and methods in canonical order', () => {
    const options = parseDomainsArgs(['--data-dir', 'd', '--out', 'o', '--labels-per-client', '50,200,1600', '--methods', 'fedavg,local', '--domains', 'books, dvd']);
    if (options === 'help') throw new Error('unexpected help');
    expect(options.labelsPerClient).toEqual([50, 200, 1600]);
    expect(options.methods).toEqual(['local', 'fedavg']);
    expect(options.domains).toEqual(['books', 'dvd']);
  });

  it('refuses bad values with the flag named', () => {
    expect(() => parseDomainsArgs(['--out', 'o'])).toThrow(/--data-dir/);
    expect(() => parseDomainsArgs(['--data-dir', 'd', '--out', 'o', '--labels-per-client', '50,x'])).toThrow(/--labels-per-client/);
    expect(() => parseDomainsArgs(['--data-dir', 'd', '--out', 'o', '--methods', 'fedprox'])).toThrow(/--methods/);
    expect(() => parseDomainsArgs(['--data-dir', 'd', '--out', 'o', '--validation-fraction', '1'])).toThrow(/--validation-fraction/);
  });
});
