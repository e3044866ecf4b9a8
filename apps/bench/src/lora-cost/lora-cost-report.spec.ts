import { describeMachine, type MachineInfo } from '../machine';
import { LORA_COST_CONFIGURATIONS, type LoraCostConfiguration } from './configurations';
import { costRows, costTable, renderLoraCostReport, type ConfigurationMeasurement, type LoraCostReport } from './lora-cost-report';
import type { TrainingTiming } from './measure-training';

const MIB = 2 ** 20;

function timing(epochSeconds: number[], extra: Partial<TrainingTiming> = {}): TrainingTiming {
  const seconds = epochSeconds.reduce((a, b) => a + b, 0);
  return { seconds, epochSeconds, rssBytesBefore: 100 * MIB, peakRssBytes: 120 * MIB, rssBytesAfter: 110 * MIB, tfBytesAfter: 26 * MIB, tensorsBefore: 40, tensorsAfter: 40, loss: 0.6, ...extra };
}

function measurement(configuration: LoraCostConfiguration, timings: TrainingTiming[], peakStepBytes = MIB): ConfigurationMeasurement {
  return { configuration, description: `${configuration} described`, trainableParameters: 1000, prepared: { seconds: 0.5, bytes: 3 * MIB, width: 512 }, peakStepBytes, timings };
}

describe('costRows', () => {
  it('turns seconds into texts/s (N × E over wall seconds) and ratios to the baseline and to frozen, per repetition', () => {
    // 100 texts, 2 epochs. Repetition 2 ran under load: everything twice as slow, the ratios unchanged.
    const rows = costRows(
      [
        measurement('frozen', [timing([0.5, 0.5]), timing([1, 1])]),
        measurement('lora-layer1', [timing([6, 4]), timing([12, 8])]),
        measurement('lora-layer1-recompute', [timing([10, 10]), timing([20, 20])]),
        measurement('lora-layers01', [timing([20, 20], { tensorsAfter: 43 }), timing([40, 40])], 9 * MIB),
      ],
      100,
      2,
    );
    expect(rows.map((r) => r.configuration)).toEqual([...LORA_COST_CONFIGURATIONS]);
    const [frozen, layer1, recompute, layers01] = rows;
    // Medians of the two repetitions: 200/1 and 200/2 texts/s, and so on.
    expect(frozen.textsPerSecond).toBeCloseTo(150);
    expect(layer1.textsPerSecond).toBeCloseTo(15);
    expect(recompute.vsBaseline).toBe(1);
    expect(layer1.vsBaseline).toBeCloseTo(2);
    expect(layers01.vsBaseline).toBeCloseTo(0.5);
    expect(frozen.vsFrozen).toBe(1);
    expect(recompute.vsFrozen).toBeCloseTo(0.05);
    // First epoch 100/6 and 100/12 texts/s; the later epoch 100/4 and 100/8.
    expect(layer1.firstEpochTextsPerSecond).toBeCloseTo((100 / 6 + 100 / 12) / 2);
    expect(layer1.laterEpochsTextsPerSecond).toBeCloseTo((100 / 4 + 100 / 8) / 2);
    expect(layer1.seconds).toBe(15);
    expect(layers01.leakedTensors).toBe(3);
    expect(layer1.leakedTensors).toBe(0);
    expect(layers01.peakStepMiB).toBe(9);
    expect(layer1).toMatchObject({ cachedMiB: 3, prepareSeconds: 0.5, rssMiBBefore: 100, peakRssMiB: 120, rssMiBAfter: 110, tfMiBAfter: 26, loss: 0.6 });
  });

  it('has no later-epoch rate with one epoch, and refuses measurements without the baseline', () => {
    const all = LORA_COST_CONFIGURATIONS.map((c) => measurement(c, [timing([2])]));
    expect(costRows(all, 10, 1).every((r) => r.laterEpochsTextsPerSecond === null && r.textsPerSecond === 5 && r.firstEpochTextsPerSecond === 5)).toBe(true);
    expect(() => costRows(all.filter((m) => m.configuration !== 'lora-layer1-recompute'), 10, 1)).toThrow('no measurement of lora-layer1-recompute');
  });
});

describe('the report', () => {
  const machine: MachineInfo = { cpuModel: 'Test CPU', cores: 2, memoryGiB: 8, platform: 'linux x64', node: 'v22.0.0' };
  const measurements = LORA_COST_CONFIGURATIONS.map((c, i) => measurement(c, [timing([1 + i])]));
  const rows = costRows(measurements, 24, 1);

  it('prints one table row per configuration, with its texts/s and ratios', () => {
    const table = costTable(rows);
    expect(table).toHaveLength(2 + 4);
    expect(table[0]).toContain('| texts/s |');
    expect(table[2]).toMatch(/^\| frozen \| 1000 \| 0\.50 \| 3\.00 \| 1\.00 \| 24\.0 \| 24\.0 \| – \| 3\.00x \| 1\.000x \| 1\.0 \| 100 → 120 \| 26\.0 \| 0 \|$/);
    expect(table[4]).toContain('| lora-layer1-recompute |');
    expect(table[4]).toContain('| 1.00x |');
  });

  it('states the machine, the backend, the command and that timings on a loaded machine vary', () => {
    const report: LoraCostReport = {
      suite: 'lora-cost', command: 'fedtl bench lora-cost --quick', backend: 'wasm', machine, loadAverage: { start: [2, 1, 0.5], end: [2.5, 1, 0.5] },
      source: 'amazon-reviews/books.train.jsonl', texts: 24, meanTokens: 101.5, epochs: 1, repeat: 1,
      training: { optimizer: 'adam', learningRate: 0.003, batchSize: 16, seed: 7 }, lora: { rank: 4, alpha: 8, targets: ['query', 'value'] },
      measurements, rows, seconds: 12,
    };
    const markdown = renderLoraCostReport(report);
    expect(markdown).toContain(describeMachine(machine));
    expect(markdown).toContain('Backend: wasm.');
    expect(markdown).toContain('`fedtl bench lora-cost --quick`');
    expect(markdown).toContain('Timings on a loaded machine vary');
    expect(markdown).toContain('- **lora-layer1**: lora-layer1 described.');
    expect(markdown).toContain(costTable(rows).join('\n'));
  });
});
