import { commandLine } from '../testing/command-line';
import { WIRE_OPTIONS } from '../wire/wire-options';
import { AGGREGATE_OPTIONS } from './aggregate-options';

describe('--floats of bench aggregate and bench wire', () => {
  it('takes sizes up to what the suite can allocate and refuses larger ones at option parsing, naming the flag', () => {
    expect(commandLine(AGGREGATE_OPTIONS, ['--floats', '1000,100000000']).values.floats).toEqual([1000, 100_000_000]);
    expect(() => commandLine(AGGREGATE_OPTIONS, ['--floats', '1e12'])).toThrow('--floats: expected a comma-separated list of integers in [1, 100000000], got "1e12"');
    expect(commandLine(WIRE_OPTIONS, ['--floats', '20000000']).values.floats).toEqual([20_000_000]);
    expect(() => commandLine(WIRE_OPTIONS, ['--floats', '1000,100000000'])).toThrow('--floats: expected a comma-separated list of integers in [1, 20000000], got "1000,100000000"');
  });
});
