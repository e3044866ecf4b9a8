import { resolve } from 'node:path';
import { commandLine } from '../testing/command-line';
import { SECAGG_OPTIONS, dropoutCount, secAggBenchOptionsFrom } from './secagg-options';

const parse = (argv: string[]) => secAggBenchOptionsFrom(commandLine(SECAGG_OPTIONS, argv).values);

describe('secAggBenchOptionsFrom', () => {
  it('has the full configuration by default, --quick a small one, and explicit flags win over both', () => {
    expect(parse([])).toEqual({ clients: [4, 16, 64], dropouts: [0, 0.1, 0.3], rounds: 2, dim: 512, adapterWidth: 64, trainDelayMs: 200, seed: 1, outDir: resolve('out/bench-secagg') });
    expect(parse(['--quick'])).toMatchObject({ clients: [4], dropouts: [0, 0.3], rounds: 1 });
    expect(parse(['--quick', '--clients', '8,4,8', '--rounds', '3'])).toMatchObject({ clients: [4, 8], dropouts: [0, 0.3], rounds: 3 });
  });

  it('refuses a dropout fraction a round could not survive', () => {
    expect(() => parse(['--dropouts', '0,0.5'])).toThrow('--dropouts: expected fractions in [0, 0.5), got "0,0.5"');
    expect(() => parse(['--clients', '1'])).toThrow('--clients: expected a comma-separated list of integers >= 2, got "1"');
  });

  it('drops at least one client for a fraction > 0 and always leaves a majority', () => {
    expect([dropoutCount(4, 0), dropoutCount(4, 0.1), dropoutCount(16, 0.3), dropoutCount(4, 0.49)]).toEqual([0, 1, 5, 1]);
  });
});
