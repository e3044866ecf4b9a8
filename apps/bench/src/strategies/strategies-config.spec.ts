import { FEDPROX_DEFAULTS, FEDYOGI_DEFAULTS } from '@fedtl/strategies';
import { DOMAINS_DEFAULTS } from '../domains/domains-config';
import { strategyFlags } from '../domains/federation-run';
import { commandLine } from '../testing/command-line';
import { STRATEGIES_DEFAULTS, STRATEGY_NAMES, checkRulesFit, federationStrategy, strategiesOptionsFrom } from './strategies-config';
import { STRATEGIES_OPTIONS } from './strategies-options';

function parse(...flags: string[]) {
  return strategiesOptionsFrom(commandLine(STRATEGIES_OPTIONS, ['--data-dir', 'd', '--out', 'o', ...flags]).values);
}

describe('strategiesOptionsFrom', () => {
  it('applies the documented defaults: 50 labels, seeds 1–5, every strategy, fedavg and the robust ones attacked', () => {
    const options = parse();
    expect(options).toMatchObject({ labelsPerClient: 50, seeds: [1, 2, 3, 4, 5], signFlipScale: 10, rounds: DOMAINS_DEFAULTS.rounds });
    expect(options.strategies).toEqual(STRATEGY_NAMES);
    expect(options.attacked).toEqual(['fedavg', 'median', 'trimmed-mean', 'krum', 'multikrum']);
    expect(options.attacker).toBeUndefined();
    expect(options.training).toEqual(DOMAINS_DEFAULTS.training);
    expect(options.model).toEqual(DOMAINS_DEFAULTS.model);
    expect(options.settings).toEqual(STRATEGIES_DEFAULTS.settings);
  });

  it('writes out the library defaults it does not tune (the declarations do not load @fedtl/strategies)', () => {
    const { fedyogi, proximalMu } = STRATEGIES_DEFAULTS.settings;
    expect({ ...fedyogi, serverLearningRate: FEDYOGI_DEFAULTS.serverLearningRate }).toEqual(FEDYOGI_DEFAULTS);
    expect(proximalMu).toBe(FEDPROX_DEFAULTS.proximalMu);
  });

  it('reads lists in the table’s order, the attack and the strategies’ settings', () => {
    const options = parse(
      '--seeds', '3,1', '--strategies', 'krum,fedavg', '--attacked', '', '--attacker', 'dvd', '--sign-flip-scale', '4',
      '--trim-fraction', '0.3', '--multikrum-selected', '2', '--proximal-mu', '0', '--fedyogi-server-lr', '0.01', '--validate',
    );
    expect(options).toMatchObject({ seeds: [3, 1], strategies: ['fedavg', 'krum'], attacked: [], attacker: 'dvd', signFlipScale: 4, validate: true });
    expect(options.settings).toMatchObject({ trimFraction: 0.3, multikrumSelected: 2, proximalMu: 0, fedyogi: { serverLearningRate: 0.01, beta2: 0.99 } });
  });

  it('refuses bad values with the flag named', () => {
    expect(() => parse('--seeds', '1,1')).toThrow(/--seeds: expected distinct integers/);
    expect(() => parse('--strategies', 'fedsgd')).toThrow(/--strategies: expected a subset of fedavg,.*got "fedsgd"/);
    expect(() => parse('--attacked', 'median,bulyan')).toThrow(/--attacked/);
    expect(() => parse('--trim-fraction', '0.5')).toThrow('--trim-fraction: expected a finite number in (0, 0.5), got "0.5"');
    expect(() => parse('--sign-flip-scale', '0')).toThrow(/--sign-flip-scale/);
    expect(() => parse('--labels-per-client', '1')).toThrow(/--labels-per-client/);
    expect(() => strategiesOptionsFrom(commandLine(STRATEGIES_OPTIONS, ['--out', 'o']).values)).toThrow('--data-dir: expected a folder of DOMAIN.train.jsonl / DOMAIN.test.jsonl files, got undefined');
  });
});

describe('federationStrategy', () => {
  it('gives the coordinator each strategy with the suite’s settings', () => {
    const options = parse('--multikrum-selected', '2');
    const flags = (name: (typeof STRATEGY_NAMES)[number]) => strategyFlags(federationStrategy(name, options)).join(' ');
    expect(flags('fedavg')).toBe('--strategy fedavg');
    expect(flags('median')).toBe('--strategy median');
    expect(flags('trimmed-mean')).toBe('--strategy trimmed-mean --trim-fraction 0.25');
    expect(flags('krum')).toBe('--strategy krum --byzantine-clients 0');
    expect(flags('multikrum')).toBe('--strategy multikrum --byzantine-clients 0 --multikrum-selected 2');
    expect(flags('fedprox')).toBe('--strategy fedprox --proximal-mu 0.01');
    expect(flags('per-fedavg')).toBe('--strategy per-fedavg --meta-inner-learning-rate 0.01');
    expect(flags('fedyogi')).toBe('--strategy fedyogi --server-learning-rate 0.003 --server-beta1 0.9 --server-beta2 0.99 --server-tau 0.001');
    expect(flags('fedadagrad')).toBe('--strategy fedadagrad --server-learning-rate 0.01 --server-beta1 0 --server-tau 0.001');
    expect(flags('fedadam')).toBe('--strategy fedadam --server-learning-rate 0.003 --server-beta1 0.9 --server-beta2 0.99 --server-tau 0.001');
    expect(flags('fedavgm')).toBe('--strategy fedavgm --server-learning-rate 0.2 --server-momentum 0.8');
  });
});

describe('checkRulesFit', () => {
  const settings = STRATEGIES_DEFAULTS.settings;
  it('accepts the defaults for 4 clients and refuses, before any federation, a rule the clients cannot satisfy', () => {
    expect(() => checkRulesFit({ strategies: [...STRATEGY_NAMES], settings }, 4)).not.toThrow();
    expect(() => checkRulesFit({ strategies: ['krum'], settings: { ...settings, byzantineClients: 1 } }, 4)).toThrow(
      '--byzantine-clients: expected f with n > 2f + 2 for krum and multikrum with n = 4 clients, got 1',
    );
    expect(() => checkRulesFit({ strategies: ['multikrum'], settings: { ...settings, multikrumSelected: 9 } }, 4)).toThrow('--multikrum-selected: expected m with m + f ≤ n = 4 (f = 0), got 9');
    expect(() => checkRulesFit({ strategies: ['trimmed-mean'], settings: { ...settings, trimFraction: 0.1 } }, 4)).toThrow('--trim-fraction: expected β with ⌊β·n⌋ ≥ 1 for n = 4 clients, got 0.1');
    // A rule that is not requested is not checked.
    expect(() => checkRulesFit({ strategies: ['fedavg'], settings: { ...settings, byzantineClients: 5 } }, 4)).not.toThrow();
  });
});
