import { FedtlError } from '@fedtl/util';
import { DOMAINS_DEFAULTS } from '../domains/domains-config';
import { commandLine } from '../testing/command-line';
import { crossTaskOptionsFrom } from './cross-task-config';
import { CROSS_TASK_OPTIONS } from './cross-task-options';

const parseCrossTaskArgs = (argv: string[]) => crossTaskOptionsFrom(commandLine(CROSS_TASK_OPTIONS, argv).values);

const required = ['--data-dir', 'd', '--out', 'o'];

function parsed(argv: string[]) {
  return parseCrossTaskArgs([...required, ...argv]);
}

describe('crossTaskOptionsFrom', () => {
  it('applies the documented defaults: 5 seeds, 200 sentiment labels, 20/50/200 rating labels, the domains benchmark’s model and training', () => {
    const options = parsed([]);
    expect(options.seeds).toEqual([1, 2, 3, 4, 5]);
    expect(options.sourceLabelsPerClient).toBe(200);
    expect(options.targetLabelsPerClient).toEqual([20, 50, 200]);
    expect(options.rounds).toBe(DOMAINS_DEFAULTS.rounds);
    expect(options.model).toEqual(DOMAINS_DEFAULTS.model);
    expect(options.training).toEqual(DOMAINS_DEFAULTS.training);
    expect(options.validate).toBe(false);
    expect(options.cacheDir).toBe(DOMAINS_DEFAULTS.cacheDir);
  });

  it('reads lists, budgets, training flags and --validate', () => {
    const options = parsed([
      '--seeds', '3,1', '--labels-per-client', '8,4', '--source-labels-per-client', '16', '--rounds', '2', '--domains', 'books, kitchen',
      '--adapter-width', '8', '--batch-size', '4', '--learning-rate', '0.01', '--local-epochs', '2', '--optimizer', 'sgd', '--validate',
    ]);
    expect(options).toMatchObject({ seeds: [3, 1], targetLabelsPerClient: [8, 4], sourceLabelsPerClient: 16, rounds: 2, domains: ['books', 'kitchen'], validate: true });
    expect(options.model).toEqual({ ...DOMAINS_DEFAULTS.model, adapterWidth: 8 });
    expect(options.training).toEqual({ localEpochs: 2, batchSize: 4, learningRate: 0.01, optimizer: 'sgd' });
  });

  it.each([
    [['--seeds', '1,1'], /--seeds: expected distinct integers, got "1,1"/],
    [['--seeds', '1,x'], /--seeds: expected a comma-separated list of integers >= 0, got "1,x"/],
    [['--labels-per-client', '2'], /--labels-per-client: expected a comma-separated list of integers >= 4, got "2"/],
    [['--adapter-width', '0'], /--adapter-width: expected an integer >= 1, got "0"/],
    [['--validation-fraction', '1'], /--validation-fraction: expected a finite number in \(0, 1\), got "1"/],
    [['--optimizer', 'rmsprop'], /--optimizer: expected one of sgd\|adam, got "rmsprop"/],
  ])('refuses %j naming the flag, what it expects and what came', (argv, message) => {
    expect(() => parsed(argv)).toThrow(FedtlError);
    expect(() => parsed(argv)).toThrow(message);
  });

  it('refuses a missing --data-dir or --out', () => {
    expect(() => parseCrossTaskArgs(['--out', 'o'])).toThrow(/--data-dir: expected a folder/);
    expect(() => parseCrossTaskArgs(['--data-dir', 'd'])).toThrow(/--out: expected an output folder/);
  });
});
