import { DOMAINS_DEFAULTS } from '../domains/domains-config';
import { commandLine } from '../testing/command-line';
import { PRIVACY_DEFAULTS, QUICK, formatEpsilon, privacyOptionsFrom } from './privacy-config';
import { PRIVACY_OPTIONS } from './privacy-options';

function parse(...flags: string[]) {
  return privacyOptionsFrom(commandLine(PRIVACY_OPTIONS, ['--data-dir', 'd', '--out', 'o', ...flags]).values);
}

describe('privacyOptionsFrom', () => {
  it('applies the documented defaults: ε ∞/8/4/2 at δ 1e-5, 200 and 1,600 labels, fedavg and fedadam, 100 clients at α 0.5 and q 0.1', () => {
    const options = parse();
    expect(options).toMatchObject({ epsilons: [null, 8, 4, 2], delta: 1e-5, labels: [200, 1600], seeds: [1], strategies: ['fedavg', 'fedadam'], recordClipNorm: 1, quick: false });
    expect(options.rounds).toBe(DOMAINS_DEFAULTS.rounds);
    expect(options.training).toEqual(DOMAINS_DEFAULTS.training);
    expect(options.clientLevel).toEqual({ labelsPerDomain: 1600, clients: 100, alpha: 0.5, samplingRate: 0.1, rounds: 50, clipNorm: 1 });
  });

  it('reads the lists, inf as no DP, and the simulation’s settings', () => {
    const options = parse(
      '--epsilons', 'inf,1.5', '--labels', '50', '--seeds', '3,1', '--strategies', 'fedadam', '--delta', '1e-6', '--record-clip-norm', '0.5',
      '--clients', '20', '--dirichlet-alpha', '0.1', '--client-sampling-rate', '1', '--client-rounds', '7', '--update-clip-norm', '2', '--client-labels', '100', '--rounds', '5',
    );
    expect(options).toMatchObject({ epsilons: [null, 1.5], labels: [50], seeds: [3, 1], strategies: ['fedadam'], delta: 1e-6, recordClipNorm: 0.5, rounds: 5 });
    expect(options.clientLevel).toEqual({ labelsPerDomain: 100, clients: 20, alpha: 0.1, samplingRate: 1, rounds: 7, clipNorm: 2 });
  });

  it('--quick shrinks every part, and explicit flags still win', () => {
    const options = parse('--quick');
    expect(options).toMatchObject({ quick: true, epsilons: QUICK.epsilons, labels: QUICK.labels, seeds: QUICK.seeds, rounds: QUICK.rounds, strategies: ['fedavg'], delta: PRIVACY_DEFAULTS.delta });
    expect(options.clientLevel).toEqual(QUICK.clientLevel);
    expect(parse('--quick', '--rounds', '3', '--clients', '4', '--strategies', 'fedavg,fedadam')).toMatchObject({
      rounds: 3, strategies: ['fedavg', 'fedadam'], clientLevel: { clients: 4, rounds: QUICK.clientLevel.rounds },
    });
  });

  it('refuses bad values with the flag named', () => {
    expect(() => parse('--epsilons', '8,8')).toThrow(/--epsilons: expected distinct numbers > 0 or inf/);
    expect(() => parse('--epsilons', '0')).toThrow('--epsilons: expected a comma-separated list of numbers > 0, got "0"');
    expect(() => parse('--delta', '1')).toThrow('--delta: expected a finite number in (0, 1), got "1"');
    expect(() => parse('--labels', '1')).toThrow(/--labels/);
    expect(() => parse('--seeds', '2,2')).toThrow(/--seeds: expected distinct integers/);
    expect(() => parse('--strategies', 'fedyogi')).toThrow(/--strategies: expected a subset of fedavg,fedadam/);
    expect(() => parse('--client-sampling-rate', '1.5')).toThrow(/--client-sampling-rate/);
    expect(() => parse('--dirichlet-alpha', '0')).toThrow(/--dirichlet-alpha/);
    expect(() => parse('--clients', '1')).toThrow(/--clients/);
    expect(() => privacyOptionsFrom(commandLine(PRIVACY_OPTIONS, ['--out', 'o']).values)).toThrow(/--data-dir/);
    expect(() => parse('--bogus')).toThrow("command line: unknown option '--bogus'");
  });

  it('formats ε = ∞', () => {
    expect(formatEpsilon(null)).toBe('∞');
    expect(formatEpsilon(2)).toBe('2');
  });
});
