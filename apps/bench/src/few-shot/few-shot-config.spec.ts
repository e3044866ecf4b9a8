import { PER_FEDAVG_DEFAULTS } from '@fedtl/strategies';
import { commandLine } from '../testing/command-line';
import { FEW_SHOT_DEFAULTS, fewShotOptionsFrom } from './few-shot-config';
import { FEW_SHOT_OPTIONS } from './few-shot-options';

const parseFewShotArgs = (argv: string[]) => fewShotOptionsFrom(commandLine(FEW_SHOT_OPTIONS, argv).values);

describe('few-shot options', () => {
  it('has the issue\'s defaults and reads every flag', () => {
    expect(parseFewShotArgs(['--data-dir', 'd', '--out', 'o'])).toMatchObject({ seeds: [1, 2, 3, 4, 5], shots: [8, 32, 128], steps: FEW_SHOT_DEFAULTS.steps, validate: false, domains: [] });
    expect(parseFewShotArgs(['--data-dir', 'd', '--out', 'o', '--seeds', '3,4', '--shots', '16', '--steps', '2', '--meta-inner-learning-rate', '0.1', '--validate', '--domains', 'books,dvd', '--adapt-lr-fedavg', '0.01,0.1'])).toMatchObject({
      seeds: [3, 4], shots: [16], steps: 2, metaInnerLearningRate: 0.1, validate: true, domains: ['books', 'dvd'],
      adaptLearningRates: { 'per-fedavg': FEW_SHOT_DEFAULTS.adaptLearningRates['per-fedavg'], fedavg: [0.01, 0.1], scratch: FEW_SHOT_DEFAULTS.adaptLearningRates.scratch },
    });
  });

  it('writes out the Per-FedAvg default it adapts with (the declarations do not load @fedtl/strategies)', () => {
    expect(FEW_SHOT_DEFAULTS.metaInnerLearningRate).toBe(PER_FEDAVG_DEFAULTS.metaInnerLearningRate);
  });

  it.each([
    [['--out', 'o'], '--data-dir: expected a folder'],
    [['--data-dir', 'd', '--out', 'o', '--shots', '8,8'], '--shots: expected distinct integers, got "8,8"'],
    [['--data-dir', 'd', '--out', 'o', '--shots', '0'], '--shots: expected a comma-separated list of integers >= 1, got "0"'],
    [['--data-dir', 'd', '--out', 'o', '--domains', 'books'], '--domains: expected a comma-separated list of at least 2 non-empty items, got "books"'],
    [['--data-dir', 'd', '--out', 'o', '--meta-inner-learning-rate', '-1'], '--meta-inner-learning-rate: expected a finite number > 0, got "-1"'],
    [['--data-dir', 'd', '--out', 'o', '--adapt-lr-scratch', '0.1,1'], '--adapt-lr-scratch: expected one step size (lists are for choosing it with --validate), got "0.1,1"'],
    [['--data-dir', 'd', '--out', 'o', '--adapt-lr-fedavg', '0'], '--adapt-lr-fedavg: expected a comma-separated list of numbers > 0, got "0"'],
  ])('refuses %j', (args, message) => {
    expect(() => parseFewShotArgs(args)).toThrow(message);
  });
});
