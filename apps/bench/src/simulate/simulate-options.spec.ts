import { commandLine } from '../testing/command-line';
import { SIMULATE_OPTIONS, simulateOptionsFrom } from './simulate-options';

const parse = (argv: string[]) => simulateOptionsFrom(commandLine(SIMULATE_OPTIONS, argv).values);

describe('simulateOptionsFrom', () => {
  it("has the issue's target as defaults and the domains bench's model and training", () => {
    expect(parse(['--data', 'd', '--out', 'o'])).toMatchObject({
      data: 'd',
      out: 'o',
      partition: { kind: 'dirichlet', alpha: 0.5 },
      clients: 1000,
      clientsPerRound: 10,
      rounds: 20,
      model: { adapterWidth: 64, head: 'linear' },
      training: { localEpochs: 1, batchSize: 16, learningRate: 0.003, optimizer: 'adam' },
    });
    expect(parse(['--data', 'd', '--out', 'o', '--partition', 'field:domain', '--clients', '8', '--clients-per-round', '2', '--workers', '1']).partition).toEqual({ kind: 'field', field: 'domain' });
  });

  it('refuses a missing --data or --out, a bad --partition and more clients per round than clients', () => {
    expect(() => parse(['--out', 'o'])).toThrow('--data: expected a labelled file or a folder of them');
    expect(() => parse(['--data', 'd'])).toThrow('--out: expected a folder');
    expect(() => parse(['--data', 'd', '--out', 'o', '--partition', 'iid'])).toThrow('--partition: expected dirichlet:ALPHA');
    expect(() => parse(['--data', 'd', '--out', 'o', '--partition', 'dirichlet:0'])).toThrow('--partition: expected dirichlet:ALPHA with ALPHA > 0, or field:NAME, got "dirichlet:0"');
    expect(() => parse(['--data', 'd', '--out', 'o', '--clients', '5', '--clients-per-round', '6'])).toThrow('--clients-per-round: expected at most --clients (5), got 6');
  });

  it('reads the --partition kind in any case and prints its canonical form, the field name as written', () => {
    const loaded = commandLine(SIMULATE_OPTIONS, ['--data', 'd', '--out', 'o', '--partition', 'Dirichlet:0.50', '--print-config']);
    expect(loaded.printed).toContain('partition: dirichlet:0.5 # flag --partition');
    expect(simulateOptionsFrom(loaded.values).partition).toEqual({ kind: 'dirichlet', alpha: 0.5 });
    expect(parse(['--data', 'd', '--out', 'o', '--partition', 'Field:Domain']).partition).toEqual({ kind: 'field', field: 'Domain' });
  });
});
