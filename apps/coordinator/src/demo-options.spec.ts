import { parseDemoOptions } from './demo-options';

describe('the demo options', () => {
  it('defaults to the few-labels regime chosen on validation slices', () => {
    expect(parseDemoOptions([])).toEqual({
      rounds: 5, clients: 4, perOrganisation: 600, trainLimit: 6, localEpochs: 2, batchSize: 32, learningRate: 0.005,
      personalizeEpochs: 20, validate: false, outDir: 'out/demo', cacheDir: '.fedtl-cache', verbose: false, secureAggregation: true,
    });
    expect(parseDemoOptions(['--no-secure-aggregation'])).toMatchObject({ secureAggregation: false });
  });

  it('reads every option, and --help', () => {
    const options = parseDemoOptions(['--clients', '3', '--train-limit', '0', '--learning-rate', '0.003', '--validate', '--out-dir', 'x']);
    expect(options).toMatchObject({ clients: 3, trainLimit: 0, learningRate: 0.003, validate: true, outDir: 'x' });
    expect(parseDemoOptions(['--help'])).toBe('help');
    expect(parseDemoOptions(['--validate'])).toMatchObject({ validate: true, outDir: 'out/demo-validate' });
  });

  it.each([
    [['--rounds', 'abc'], '--rounds: expected an integer >= 1, got "abc"'],
    [['--clients', '0'], '--clients: expected an integer >= 1, got "0"'],
    [['--train-limit=-1'], '--train-limit: expected an integer >= 0, got "-1"'],
    [['--train-limit', 'abc'], '--train-limit: expected an integer >= 0, got "abc"'],
    [['--per-organisation', '5'], '--per-organisation: expected an integer >= 10, got "5"'],
    [['--learning-rate', '0'], '--learning-rate: expected a positive finite number, got "0"'],
    [['--clients'], "Option '--clients <value>' argument missing"],
    [['--colour'], "Unknown option '--colour'"],
    [['--clients', '1'], '--clients: expected at least 2 under secure aggregation (a sum of one update is that update), or --no-secure-aggregation, got 1'],
  ])('refuses %j before anything starts', (argv, message) => {
    expect(() => parseDemoOptions(argv)).toThrow(expect.objectContaining({ code: 'FEDTL_ERR_BAD_CONFIG', message: expect.stringContaining(message) }));
  });
});
