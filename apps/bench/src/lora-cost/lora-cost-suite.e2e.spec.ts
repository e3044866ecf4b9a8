// `bench lora-cost --quick` end to end on the shared reviews (24 books texts, one epoch, wasm): every configuration
// prepared, trained and measured, report.json and report.md written, no tensor left behind. No speed is asserted:
// speed belongs to the benchmark, not to a test; sizes and counts are deterministic and are checked.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { configureLogging } from '@fedtl/util';
import { useTestSandbox } from '@fedtl/util/testing';
import { commandLine } from '../testing/command-line';
import { WORKSPACE_ROOT } from '../workspace';
import { LORA_COST_CONFIGURATIONS } from './configurations';
import { LORA_COST_OPTIONS } from './lora-cost-options';
import type { LoraCostReport } from './lora-cost-report';
import { runLoraCostSuite } from './lora-cost-suite';

const REVIEWS = join(WORKSPACE_ROOT, '..', 'shared', 'data', 'amazon-reviews');

describe('bench lora-cost', () => {
  const sandbox = useTestSandbox();
  beforeAll(() => configureLogging({ level: 'warn' }));

  it('--quick measures frozen, LoRA from cached layer-1 states, from recomputed layer 0 and in both layers, and writes the report', async () => {
    const out = join(sandbox.dir, 'out');
    const write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const progress = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    let code: number;
    let printed: string;
    try {
      code = await runLoraCostSuite(commandLine(LORA_COST_OPTIONS, ['--data-dir', REVIEWS, '--quick', '--out', out]));
      printed = write.mock.calls.map(([chunk]) => String(chunk)).join('');
    } finally {
      write.mockRestore();
      progress.mockRestore();
    }
    expect(code).toBe(0);
    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as LoraCostReport;
    expect(report).toMatchObject({ suite: 'lora-cost', backend: 'wasm', texts: 24, epochs: 1, repeat: 1, source: 'amazon-reviews/books.train.jsonl', lora: { rank: 4, alpha: 8 } });
    expect(report.command).toBe(`fedtl bench lora-cost --data-dir ${REVIEWS} --out ${out} --quick`);
    expect(report.machine.cores).toBeGreaterThan(0);
    expect(report.rows.map((r) => r.configuration)).toEqual([...LORA_COST_CONFIGURATIONS]);
    for (const row of report.rows) {
      expect(row.textsPerSecond).toBeGreaterThan(0);
      expect(row.firstEpochTextsPerSecond).toBeGreaterThan(0);
      expect(row.laterEpochsTextsPerSecond).toBeNull();
      expect(Number.isFinite(row.loss)).toBe(true);
      expect(row.leakedTensors).toBe(0);
      expect(row.peakRssMiB).toBeGreaterThanOrEqual(row.rssMiBBefore);
    }
    const [frozen, layer1, recompute, layers01] = report.measurements;
    for (const m of report.measurements) {
      expect(m.timings).toHaveLength(1);
      expect(m.timings[0].tensorsAfter).toBe(m.timings[0].tensorsBefore);
    }
    expect(report.rows.find((r) => r.configuration === 'lora-layer1-recompute')?.vsBaseline).toBe(1);
    expect(report.rows[0].vsFrozen).toBe(1);
    // 24 features of 512 floats; the states hold one row per token: 512 wide entering layer 1, 256 entering layer 0.
    expect(frozen.prepared).toMatchObject({ bytes: 24 * 512 * 4, width: 512 });
    expect(layer1.prepared.width).toBe(512);
    expect(recompute.prepared.width).toBe(256);
    expect(layer1.prepared.bytes).toBe(2 * recompute.prepared.bytes);
    expect(layers01.prepared.bytes).toBe(recompute.prepared.bytes);
    expect(recompute.prepared.bytes).toBe(Math.round(24 * report.meanTokens) * 256 * 4);
    expect(recompute.prepared.bytes).toBeGreaterThan(frozen.prepared.bytes);
    // A step through the encoder holds its activations for the gradients; recomputing layer 0 holds layer 0's too.
    expect(layer1.peakStepBytes).toBeGreaterThan(10 * frozen.peakStepBytes);
    expect(recompute.peakStepBytes).toBeGreaterThan(layer1.peakStepBytes);
    expect(layers01.trainableParameters).toBeGreaterThan(layer1.trainableParameters);
    const markdown = await readFile(join(out, 'report.md'), 'utf8');
    expect(markdown).toContain('| configuration | trains (floats) |');
    expect(markdown).toContain('Timings on a loaded machine vary');
    expect(printed).toContain('| lora-layers01 |');
  }, 300_000);
});
