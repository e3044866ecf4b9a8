import { parseCommandLine } from '@fedtl/util/options';
import { DEMO_OPTIONS, demoOptionsFrom } from './demo-options';

function parseDemoOptions(argv: string[], env: Record<string, string> = {}) {
  return demoOptionsFrom(parseCommandLine(DEMO_OPTIONS, argv, env, () => 'rounds: 3\n').values);
}

describe('the demo options', () => {
  it('defaults to the few-labels regime chosen on validation slices', () => {
    expect(parseDemoOptions([])).toEqual({
      rounds: 5, clients: 4, perOrganisation: 600, trainLimit: 6, localEpochs: 2, batchSize: 32, learningRate: 0.005,
      personalizeEpochs: 20, validate: false, outDir: 'out/demo', cacheDir: '.fedtl-cache', verbose: false, secureAggregation: true,
    });
    expect(parseDemoOptions(['--no-secure-aggregation'])).toMatchObject({ secureAggregation: false });
  });

  it('reads every option from flags, FEDTL_DEMO_* variables and a config file, in that order', () => {
    const options = parseDemoOptions(['--clients', '3', '--train-limit', '0', '--learning-rate', '0.003', '--validate', '--out-dir', 'x']);
    expect(options).toMatchObject({ clients: 3, trainLimit: 0, learningRate: 0.003, validate: true, outDir: 'x' });
    expect(parseDemoOptions(['--validate'])).toMatchObject({ validate: true, outDir: 'out/demo-validate' });
    expect(parseDemoOptions(['--config', 'demo.yaml'])).toMatchObject({ rounds: 3 });
    expect(parseDemoOptions(['--config', 'demo.yaml'], { FEDTL_DEMO_ROUNDS: '4', FEDTL_ROUNDS: '9' })).toMatchObject({ rounds: 4 });
    expect(parseDemoOptions(['--config', 'demo.yaml', '--rounds', '2'], { FEDTL_DEMO_ROUNDS: '4' })).toMatchObject({ rounds: 2 });
    expect(parseDemoOptions([], { FEDTL_DEMO_SECURE_AGGREGATION: 'false' })).toMatchObject({ secureAggregation: false });
  });

  it.each([
    [['--rounds', 'abc'], '--rounds: expected an integer >= 1, got "abc"'],
    [['--clients', '0'], '--clients: expected an integer >= 1, got "0"'],
    [['--train-limit=-1'], '--train-limit: expected an integer >= 0, got "-1"'],
    [['--train-limit', 'abc'], '--train-limit: expected an integer >= 0, got "abc"'],
    [['--per-organisation', '5'], '--per-organisation: expected an integer >= 10, got "5"'],
    [['--learning-rate', '0'], '--learning-rate: expected a finite number > 0, got "0"'],
    [['--clients'], "option '--clients <N>' argument missing"],
    [['--colour'], "unknown option '--colour'"],
    [['--clients', '1'], '--clients: expected at least 2 under secure aggregation (a sum of one update is that update), or --no-secure-aggregation, got 1'],
  ])('refuses %j before anything starts', (argv, message) => {
    expect(() => parseDemoOptions(argv)).toThrow(expect.objectContaining({ code: 'FEDTL_ERR_BAD_CONFIG', message: expect.stringContaining(message) }));
  });
});
