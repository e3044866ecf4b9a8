import { commandLine } from '../testing/command-line';
import { LOAD_OPTIONS, loadOptionsFrom } from './load-options';

const parseLoadOptions = (argv: string[]) => loadOptionsFrom(commandLine(LOAD_OPTIONS, argv).values);

describe('loadOptionsFrom', () => {
  it('has its defaults, sorts the client counts and refuses a comparison model that is not larger', () => {
    expect(parseLoadOptions([])).toMatchObject({ clients: [10, 100, 500], rounds: 3, adapterWidth: 32, compareAdapterWidth: 256, connectBatch: 50 });
    expect(parseLoadOptions(['--clients', '50,5', '--out', 'r.json'])).toMatchObject({ clients: [5, 50], out: 'r.json' });
    expect(() => parseLoadOptions(['--clients', '10,x'])).toThrow('--clients: expected a comma-separated list of integers >= 1, got "10,x"');
    expect(() => parseLoadOptions(['--adapter-width', '64', '--compare-adapter-width', '32'])).toThrow('--compare-adapter-width: expected more than --adapter-width (64), got 32');
  });
});
