// `bench lora-cost`: what local training costs a client per configuration, measured side by side in one process
// on the wasm backend: adapter + head on cached frozen features (frozen), LoRA in use-lite's layer 1 from cached
// states entering it (fedtl's default), the same LoRA recomputing layer 0 at every step (the baseline for what the
// cache saves), and LoRA in layers 0 and 1. Per configuration: the cached part's time and size, training wall
// seconds and texts/s (first and later epochs), RSS and tf.memory(), and the tensors left behind (exit 1 if any).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeLabels, labelsOf, readDataset } from '@fedtl/data';
import { initialWeights, loadTrainableUseLite, selectBackend, type TrainableUseLite } from '@fedtl/model';
import type { TrainingConfig } from '@fedtl/protocol';
import { configError, configureLogging } from '@fedtl/util';
import type { ResolvedOptions } from '@fedtl/util/options';
import { benchCommand } from '../bench-command';
import { machineInfo } from '../machine';
import { existingPath } from '../option-checks';
import { LORA_COST_CONFIGURATIONS, configurationPlan, configurationSpec } from './configurations';
import { costRows, costTable, renderLoraCostReport, type ConfigurationMeasurement, type LoraCostReport } from './lora-cost-report';
import { LORA_COST_OPTIONS, loraCostOptionsFrom, type LoraCostOptions } from './lora-cost-options';
import { peakStepBytes, prepareExamples, timeTraining, warmUp, type PreparedExamples } from './measure-training';

/** The same local training for every configuration: the domains bench's (adam, 0.003, batch 16), a fixed seed. */
const SEED = 7;

/** The first `options.texts` rows of DOMAIN.train.jsonl, labels as indices into their sorted label set. */
async function readTexts(options: LoraCostOptions): Promise<{ source: string; texts: string[]; labels: string[]; encoded: Int32Array }> {
  existingPath(options.dataDir, '--data-dir', 'folder');
  const file = path.join(options.dataDir, `${options.domain}.train.jsonl`);
  if (!existsSync(file)) throw configError('--domain', `a domain with ${options.domain}.train.jsonl in ${options.dataDir}`, options.domain);
  const rows = (await readDataset(file)).examples;
  if (rows.length < options.texts) throw configError('--texts', `at most ${rows.length} (the rows of ${file})`, options.texts);
  const examples = rows.slice(0, options.texts);
  const labels = labelsOf(examples);
  if (labels.length < 2) throw configError('--texts', `enough of ${file}'s first rows to hold two labels`, options.texts);
  return { source: `${path.basename(options.dataDir)}/${options.domain}.train.jsonl`, texts: examples.map((e) => e.text), labels, encoded: encodeLabels(examples, labels) };
}

/** `fedtl bench lora-cost` with its resolved options: report.json and report.md under --out, the table to stdout. */
export async function runLoraCostSuite(resolved: ResolvedOptions<typeof LORA_COST_OPTIONS>): Promise<number> {
  configureLogging({ level: resolved.values.logLevel, format: resolved.values.logFormat });
  const options = loraCostOptionsFrom(resolved.values);
  const started = performance.now();
  const loadStart = os.loadavg();
  const { source, texts, labels, encoded } = await readTexts(options);
  const backend = await selectBackend('wasm');
  const use: TrainableUseLite = await loadTrainableUseLite({ backend });
  const progress = (line: string) => process.stderr.write(`${line}\n`);
  try {
    const config: TrainingConfig = { localEpochs: options.epochs, batchSize: 16, learningRate: 0.003, optimizer: 'adam', seed: SEED };
    const plans = LORA_COST_CONFIGURATIONS.map(configurationPlan);
    const specs = plans.map((plan) => configurationSpec(plan, labels, options.loraRank));
    const starts = specs.map((spec) => initialWeights(spec, SEED));
    const prepared: PreparedExamples[] = [];
    const measurements: ConfigurationMeasurement[] = [];
    // Untimed: the encoder's kernels run once before any preparation is timed.
    await use.embed(texts.slice(0, 16));
    for (const [k, plan] of plans.entries()) {
      prepared.push(await prepareExamples(use, plan, texts, encoded));
      const { seconds, bytes, width } = prepared[k];
      measurements.push({ configuration: plan.configuration, description: plan.description, trainableParameters: starts[k].reduce((sum, t) => sum + t.data.length, 0), prepared: { seconds, bytes, width }, peakStepBytes: 0, timings: [] });
      progress(`${plan.configuration}: cached ${(bytes / 2 ** 20).toFixed(2)} MiB in ${seconds.toFixed(2)} s`);
    }
    // Interleaved: each repetition runs every configuration, starting one later each time. The first runs them in
    // the table's order, cheapest first, so that its RSS readings (the wasm heap only grows) are each configuration's own high-water mark.
    for (let r = 0; r < options.repeat; r++) {
      for (let j = 0; j < plans.length; j++) {
        const k = (j + r) % plans.length;
        // Untimed, just before the first timed run: no timed run pays for the first use of a kernel.
        if (r === 0) await warmUp(specs[k], starts[k], prepared[k].examples, config);
        const timing = await timeTraining(specs[k], starts[k], prepared[k].examples, config);
        measurements[k].timings.push(timing);
        progress(`repetition ${r + 1}/${options.repeat} ${plans[k].configuration}: ${((options.texts * options.epochs) / timing.seconds).toFixed(1)} texts/s`);
      }
    }
    // Last, since profiling the biggest step grows the wasm heap to its most.
    for (const [k, measurement] of measurements.entries()) measurement.peakStepBytes = await peakStepBytes(specs[k], starts[k], prepared[k].examples, config);
    const tokens = use.tokenIds(texts).map((ids) => ids.length);
    const report: LoraCostReport = {
      suite: 'lora-cost',
      command: benchCommand('lora-cost', LORA_COST_OPTIONS, resolved),
      backend,
      machine: machineInfo(),
      loadAverage: { start: loadStart, end: os.loadavg() },
      source,
      texts: options.texts,
      meanTokens: tokens.reduce((a, b) => a + b, 0) / tokens.length,
      epochs: options.epochs,
      repeat: options.repeat,
      training: { optimizer: config.optimizer, learningRate: config.learningRate, batchSize: config.batchSize, seed: SEED },
      lora: { rank: options.loraRank, alpha: 2 * options.loraRank, targets: ['query', 'value'] },
      measurements,
      rows: costRows(measurements, options.texts, options.epochs),
      seconds: (performance.now() - started) / 1000,
    };
    mkdirSync(options.out, { recursive: true });
    writeFileSync(path.join(options.out, 'report.json'), JSON.stringify(report, null, 2) + '\n');
    writeFileSync(path.join(options.out, 'report.md'), renderLoraCostReport(report));
    process.stdout.write(costTable(report.rows).join('\n') + '\n');
    const leaked = report.rows.filter((row) => row.leakedTensors !== 0);
    for (const row of leaked) progress(`${row.configuration}: ${row.leakedTensors} tensors left behind by training`);
    return leaked.length === 0 ? 0 : 1;
  } finally {
    use.dispose();
  }
}
