import { commandLine } from '../testing/command-line';
import { DOMAINS_DEFAULTS, METHOD_NAMES, domainsOptionsFrom } from './domains-config';
import { DOMAINS_OPTIONS } from './domains-options';

const parseDomainsArgs = (argv: string[]) => domainsOptionsFrom(commandLine(DOMAINS_OPTIONS, argv).values);

describe('domainsOptionsFrom', () => {
  it('applies the documented defaults', () => {
    const options = parseDomainsArgs(['--data-dir', 'd', '--out', 'o']);
    expect(options.labelsPerClient).toEqual(DOMAINS_DEFAULTS.labelsPerClient);
    expect(options.rounds).toBe(DOMAINS_DEFAULTS.rounds);
    expect(options.methods).toEqual(METHOD_NAMES);
    expect(options.validate).toBe(false);
    expect(options.training).toEqual(DOMAINS_DEFAULTS.training);
    expect(options.serverOptimizers).toEqual(DOMAINS_DEFAULTS.serverOptimizers);
  });

  it('reads the server optimisers of the fedavgm and fedadam rows', () => {
    const options = parseDomainsArgs(['--data-dir', 'd', '--out', 'o', '--fedavgm-server-lr', '0.3', '--fedavgm-momentum', '0', '--fedadam-server-lr', '0.01', '--fedadam-tau', '1e-3']);
    expect(options.serverOptimizers).toEqual({
      fedavgm: { serverLearningRate: 0.3, serverMomentum: 0 },
      fedadam: { ...DOMAINS_DEFAULTS.serverOptimizers.fedadam, serverLearningRate: 0.01, tau: 1e-3 },
    });
  });

  it('reads a budget list as a sweep, and methods in canonical order', () => {
    const options = parseDomainsArgs(['--data-dir', 'd', '--out', 'o', '--labels-per-client', '50,200,1600', '--methods', 'fedavg,local', '--domains', 'books, dvd']);
    expect(options.labelsPerClient).toEqual([50, 200, 1600]);
    expect(options.methods).toEqual(['local', 'fedavg']);
    expect(options.domains).toEqual(['books', 'dvd']);
  });

  it('knows fedavg-secagg, in the default list, right after fedavg', () => {
    const options = parseDomainsArgs(['--data-dir', 'd', '--out', 'o', '--methods', 'fedavg-secagg,fedavg']);
    expect(options.methods).toEqual(['fedavg', 'fedavg-secagg']);
    expect(METHOD_NAMES.indexOf('fedavg-secagg')).toBe(METHOD_NAMES.indexOf('fedavg') + 1);
  });

  it('reads the compressions to compare in their canonical words, float32 first, and refuses unknown or repeated ones', () => {
    const base = ['--data-dir', 'd', '--out', 'o'];
    expect(parseDomainsArgs(base).compression).toEqual([]);
    expect(parseDomainsArgs([...base, '--compression', 'topk:0.010,INT8']).compression).toEqual(['float32', 'topk:0.01', 'int8']);
    expect(parseDomainsArgs([...base, '--compression', 'float16,float32']).compression).toEqual(['float32', 'float16']);
    expect(commandLine(DOMAINS_OPTIONS, [...base, '--compression', 'TopK:0.010,INT8', '--print-config']).printed).toContain('compression: [ topk:0.01, int8 ] # flag --compression');
    expect(() => parseDomainsArgs([...base, '--compression', 'int8,gzip'])).toThrow('--compression: expected a comma-separated list of at least 1 item, each float32, float16, int8 or topk:FRACTION');
    expect(() => parseDomainsArgs([...base, '--compression', 'topk:0.1,topk:0.10'])).toThrow('--compression: expected distinct compressions');
  });

  it('refuses bad values with the flag named', () => {
    expect(() => parseDomainsArgs(['--out', 'o'])).toThrow('--data-dir: expected a folder of DOMAIN.train.jsonl / DOMAIN.test.jsonl files, got undefined');
    expect(() => parseDomainsArgs(['--data-dir', 'd', '--out', 'o', '--labels-per-client', '50,x'])).toThrow(/--labels-per-client/);
    expect(() => parseDomainsArgs(['--data-dir', 'd', '--out', 'o', '--methods', 'fedprox'])).toThrow(/--methods/);
    expect(() => parseDomainsArgs(['--data-dir', 'd', '--out', 'o', '--validation-fraction', '1'])).toThrow(/--validation-fraction/);
    expect(() => parseDomainsArgs(['--data-dir', 'd', '--out', 'o', '--fedavgm-momentum', '1'])).toThrow(/--fedavgm-momentum/);
    expect(() => parseDomainsArgs(['--data-dir', 'd', '--out', 'o', '--fedadam-server-lr', '0'])).toThrow(/--fedadam-server-lr/);
    expect(() => parseDomainsArgs(['--data-dir', 'd', '--out', 'o', '--fedadam-tau', ''])).toThrow('--fedadam-tau: expected a finite number > 0, got ""');
    expect(() => parseDomainsArgs(['--data-dir', 'd', '--out', 'o', '--labels-per-client', '50,50'])).toThrow('--labels-per-client: expected distinct integers, got "50,50"');
  });
});
