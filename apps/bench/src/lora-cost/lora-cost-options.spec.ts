import { resolve } from 'node:path';
import { trainableTensorSpecs } from '@fedtl/model';
import { commandLine } from '../testing/command-line';
import { LORA_COST_CONFIGURATIONS, configurationPlan, configurationSpec } from './configurations';
import { LORA_COST_OPTIONS, loraCostOptionsFrom } from './lora-cost-options';

const parse = (argv: string[]) => loraCostOptionsFrom(commandLine(LORA_COST_OPTIONS, argv).values);

describe('bench lora-cost options', () => {
  it('has the issue\'s defaults, --quick a small run, and explicit flags win over both', () => {
    expect(parse(['--data-dir', 'd', '--out', 'o'])).toEqual({ dataDir: 'd', domain: 'books', texts: 200, epochs: 2, loraRank: 4, repeat: 3, out: resolve('o') });
    expect(parse(['--data-dir', 'd', '--out', 'o', '--quick'])).toMatchObject({ texts: 24, epochs: 1, repeat: 1 });
    expect(parse(['--data-dir', 'd', '--out', 'o', '--quick', '--texts', '40', '--domain', 'dvd', '--lora-rank', '8', '--repeat', '3'])).toMatchObject({ texts: 40, epochs: 1, domain: 'dvd', loraRank: 8, repeat: 3 });
  });

  it.each([
    [['--out', 'o'], '--data-dir: expected a folder of DOMAIN.train.jsonl'],
    [['--data-dir', 'd'], '--out: expected an output folder'],
    [['--data-dir', 'd', '--out', 'o', '--texts', '1'], '--texts: expected an integer >= 2, got "1"'],
    [['--data-dir', 'd', '--out', 'o', '--lora-rank', '0'], '--lora-rank: expected an integer in [1, 256], got "0"'],
  ])('refuses %j', (argv, message) => {
    expect(() => parse(argv)).toThrow(message);
  });
});

describe('the configurations', () => {
  it('train an adapter of width 64 and a linear head, plus rank-r LoRA pairs on query and value of their layers', () => {
    const floats = (configuration: (typeof LORA_COST_CONFIGURATIONS)[number], rank: number) =>
      trainableTensorSpecs(configurationSpec(configurationPlan(configuration), ['negative', 'positive'], rank)).reduce((sum, t) => sum + t.shape.reduce((a, b) => a * b, 1), 0);
    // Adapter 512·64 + 64 + 64·512 + 512, head 512·2 + 2.
    const frozen = 67_138;
    expect(floats('frozen', 4)).toBe(frozen);
    // Layer 1's query and value: 2 · (512·r + r·512); layer 0's: 2 · (256·r + r·256).
    expect(floats('lora-layer1', 4)).toBe(frozen + 8192);
    expect(floats('lora-layer1-recompute', 4)).toBe(frozen + 8192);
    expect(floats('lora-layers01', 8)).toBe(frozen + 16_384 + 8192);
    expect(configurationSpec(configurationPlan('lora-layers01'), ['a', 'b'], 4).lora).toEqual({ rank: 4, alpha: 8, layers: [0, 1], targets: ['query', 'value'] });
    expect(configurationPlan('lora-layer1').cached).toBe(1);
    expect(configurationPlan('lora-layer1-recompute').cached).toBe(0);
  });
});
