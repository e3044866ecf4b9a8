import { commandLine } from '../testing/command-line';
import { DEMO_TUNING_OPTIONS } from './demo-tuning-options';
import { createStrategy, demoTuningOptionsFrom, meetsTargets, renderTuningMarkdown, summarise, type SettingResult } from './demo-tuning-suite';

const parseDemoTuningArgs = (argv: string[]) => demoTuningOptionsFrom(commandLine(DEMO_TUNING_OPTIONS, argv).values);

describe('demoTuningOptionsFrom', () => {
  it('has defaults for every list and reads comma-separated ones', () => {
    const options = parseDemoTuningArgs(['--budgets', '10,20', '--learning-rates', '0.003', '--strategies', 'fedavg,fedavgm:0.2:0.8']);
    expect(options).toMatchObject({
      organisations: 3,
      perOrganisation: 400,
      budgets: [10, 20],
      rounds: [5, 10, 20],
      learningRates: [0.003],
      strategies: ['fedavg', 'fedavgm:0.2:0.8'],
      draws: 3,
      fixedValidation: false,
    });
  });

  it('refuses what it cannot run', () => {
    expect(() => parseDemoTuningArgs(['--budgets', '1'])).toThrow('--budgets');
    expect(() => parseDemoTuningArgs(['--validation-fraction', '1'])).toThrow('--validation-fraction');
    expect(() => parseDemoTuningArgs(['--strategies', 'fedprox'])).toThrow('--strategies');
    expect(() => parseDemoTuningArgs(['--strategies', 'fedavgm:0.2'])).toThrow('--strategies');
    expect(() => parseDemoTuningArgs(['--learning-rates', '0.003,0'])).toThrow('--learning-rates: expected a comma-separated list of numbers > 0, got "0.003,0"');
  });
});

describe('createStrategy', () => {
  it('builds the coordinator strategies with their server options', () => {
    expect(createStrategy('fedavg').name).toBe('FedAvg');
    expect(createStrategy('fedavgm:0.2:0.8')).toMatchObject({ name: 'FedAvgM', serverMomentum: 0.8 });
    expect(createStrategy('fedadam:0.003:0.001')).toMatchObject({ name: 'FedAdam', tau: 0.001 });
  });
});

describe('summarise and renderTuningMarkdown', () => {
  const score = (local: number, global: number, personalised: number) => ({ local, global, personalised: { 20: personalised } });
  const result: SettingResult = {
    strategy: 'fedavg',
    budget: 20,
    rounds: 10,
    localEpochs: 1,
    learningRate: 0.003,
    batchSize: 32,
    scores: [
      [score(0.8, 0.9, 0.9), score(0.9, 0.9, 0.92)],
      [score(0.85, 0.86, 0.84), score(0.9, 0.95, 0.95)],
    ],
  };

  it('averages over draws and organisations and keeps the worst draw and organisation', () => {
    const summary = summarise(result, 20);
    expect(summary.local).toBeCloseTo(0.8625);
    expect(summary.global).toBeCloseTo(0.9025);
    expect(summary.gain).toBeCloseTo(0.04);
    expect(summary.worstDrawGain).toBeCloseTo(0.03);
    expect(summary.worstPersonalisedGain).toBeCloseTo(-0.01);
    // Draw 0: +5 points, personalised keeps up; draw 1: +3 points, but org-1's personalised model falls behind.
    expect(summary.drawsMeetingTargets).toBe(1);
  });

  it('renders one row per setting with draw 0 per organisation', () => {
    const lines = renderTuningMarkdown([result], [20], ['org-1', 'org-2']).split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('| fedavg | 20 | 10 | 1 | 0.003 | 32 | 86.3 | 90.3 | 4.0 | 3.0 | 90.3 | -1.0 | 1/2 | org-1 80.0/90.0/90.0; org-2 90.0/90.0/92.0 |');
  });
});

describe('meetsTargets', () => {
  const score = (local: number, global: number, personalised: number) => ({ local, global, personalised: { 20: personalised } });
  it('needs a 3-point mean gain and personalised at least as good as local only for every organisation', () => {
    expect(meetsTargets([score(0.8, 0.83, 0.8), score(0.9, 0.93, 0.9)], 20)).toBe(true);
    expect(meetsTargets([score(0.8, 0.82, 0.8), score(0.9, 0.93, 0.9)], 20)).toBe(false);
    expect(meetsTargets([score(0.8, 0.9, 0.79), score(0.9, 0.93, 0.95)], 20)).toBe(false);
  });
});
