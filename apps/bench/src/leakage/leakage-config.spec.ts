import { commandLine } from '../testing/command-line';
import { leakageOptionsFrom } from './leakage-config';
import { LEAKAGE_OPTIONS } from './leakage-options';

const parseLeakageArgs = (argv: string[]) => leakageOptionsFrom(commandLine(LEAKAGE_OPTIONS, argv).values);

describe('bench leakage options', () => {
  it('--settings: issue 8\'s rows by default, the DP rows on request, and names a group it does not know', () => {
    expect(parseLeakageArgs([]).settings).toEqual(['base']);
    expect(parseLeakageArgs(['--settings', 'dp'])).toMatchObject({ settings: ['dp'], dpSizes: [1, 50] });
    expect(parseLeakageArgs(['--settings', 'dp,base', '--quick'])).toMatchObject({ settings: ['base', 'dp'], dpSizes: [1, 4] });
    expect(() => parseLeakageArgs(['--settings', 'noise'])).toThrow('--settings: expected a subset of base,dp, got "noise"');
  });

  it('has the full sizes by default, --quick\'s without the flags, and an explicit flag wins over both', () => {
    expect(parseLeakageArgs([])).toMatchObject({ datasets: ['amazon', 'mail'], trials: 20, others: 1000, seed: 42, logLevel: 'warn', matching: { trials: 8, iterations: 100 } });
    expect(parseLeakageArgs(['--quick'])).toMatchObject({ trials: 3, others: 100, matching: { trials: 2, iterations: 30 } });
    expect(parseLeakageArgs(['--quick', '--trials', '5', '--matching-trials', '9'])).toMatchObject({ trials: 5, matching: { trials: 5 } });
    expect(() => parseLeakageArgs(['--datasets', 'mnist'])).toThrow('--datasets: expected a subset of amazon,mail, got "mnist"');
  });
});
