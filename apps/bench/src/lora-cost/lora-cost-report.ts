// What `bench lora-cost` writes: report.json (every figure) and report.md (the table), and the pure arithmetic
// from measured seconds to texts/s and ratios. A ratio is the median over repetitions of the ratio within each
// repetition, so that load falling on one repetition falls on both sides of its ratio.
import { median } from '../embedding/throughput';
import { describeMachine, type MachineInfo } from '../machine';
import { BASELINE, type LoraCostConfiguration } from './configurations';
import type { TrainingTiming } from './measure-training';

/** Everything measured for one configuration. */
export interface ConfigurationMeasurement {
  configuration: LoraCostConfiguration;
  description: string;
  /** Floats that train (LoRA pairs, adapter, head). */
  trainableParameters: number;
  /** The part computed once: wall seconds, bytes of its Float32Arrays, floats per token (or per text for features). */
  prepared: { seconds: number; bytes: number; width: number };
  /** Tensor bytes of one step on the longest texts above what was allocated before (tf.profile). */
  peakStepBytes: number;
  /** One timed training per repetition, in repetition order. */
  timings: TrainingTiming[];
}

/** One row of the table. Rates are texts/s (N texts × E epochs over wall seconds); sizes MiB. */
export interface CostRow {
  configuration: LoraCostConfiguration;
  description: string;
  trainableParameters: number;
  prepareSeconds: number;
  cachedMiB: number;
  /** Median wall seconds of the training. */
  seconds: number;
  textsPerSecond: number;
  /** The first epoch alone (model and optimiser built, first kernels run) and the epochs after it (null with one epoch). */
  firstEpochTextsPerSecond: number;
  laterEpochsTextsPerSecond: number | null;
  /** texts/s over the baseline's (lora-layer1-recompute) and over frozen's, per repetition, median. */
  vsBaseline: number;
  vsFrozen: number;
  /** Process RSS in the first repetition (configurations in table order): before training, highest read after a step, and after. */
  rssMiBBefore: number;
  peakRssMiB: number;
  rssMiBAfter: number;
  tfMiBAfter: number;
  peakStepMiB: number;
  /** Most tensors any repetition left behind (0 expected). */
  leakedTensors: number;
  loss: number;
}

export interface LoraCostReport {
  suite: 'lora-cost';
  command: string;
  backend: string;
  machine: MachineInfo;
  /** os.loadavg() (1, 5, 15 minutes) at start and end. */
  loadAverage: { start: number[]; end: number[] };
  source: string;
  texts: number;
  /** Mean tokens per text as the encoder reads them (after its cap). */
  meanTokens: number;
  epochs: number;
  repeat: number;
  training: { optimizer: string; learningRate: number; batchSize: number; seed: number };
  lora: { rank: number; alpha: number; targets: string[] };
  measurements: ConfigurationMeasurement[];
  rows: CostRow[];
  seconds: number;
}

const MIB = 2 ** 20;

/** The table's rows from the measurements of `texts` texts over `epochs` epochs (every configuration, baseline and frozen included). */
export function costRows(measurements: readonly ConfigurationMeasurement[], texts: number, epochs: number): CostRow[] {
  const rates = (m: ConfigurationMeasurement) => m.timings.map((t) => (texts * epochs) / t.seconds);
  const find = (configuration: LoraCostConfiguration) => {
    const found = measurements.find((m) => m.configuration === configuration);
    if (!found) throw new RangeError(`costRows: no measurement of ${configuration}`);
    return rates(found);
  };
  const baseline = find(BASELINE);
  const frozen = find('frozen');
  const ratio = (own: number[], other: number[]) => median(own.map((rate, r) => rate / other[r]));
  return measurements.map((m) => {
    const own = rates(m);
    const later = m.timings.filter((t) => t.epochSeconds.length > 1).map((t) => (texts * (t.epochSeconds.length - 1)) / t.epochSeconds.slice(1).reduce((a, b) => a + b, 0));
    return {
      configuration: m.configuration,
      description: m.description,
      trainableParameters: m.trainableParameters,
      prepareSeconds: m.prepared.seconds,
      cachedMiB: m.prepared.bytes / MIB,
      seconds: median(m.timings.map((t) => t.seconds)),
      textsPerSecond: median(own),
      firstEpochTextsPerSecond: median(m.timings.map((t) => texts / t.epochSeconds[0])),
      laterEpochsTextsPerSecond: later.length > 0 ? median(later) : null,
      vsBaseline: ratio(own, baseline),
      vsFrozen: ratio(own, frozen),
      rssMiBBefore: m.timings[0].rssBytesBefore / MIB,
      peakRssMiB: m.timings[0].peakRssBytes / MIB,
      rssMiBAfter: m.timings[0].rssBytesAfter / MIB,
      tfMiBAfter: m.timings[m.timings.length - 1].tfBytesAfter / MIB,
      peakStepMiB: m.peakStepBytes / MIB,
      leakedTensors: Math.max(...m.timings.map((t) => t.tensorsAfter - t.tensorsBefore)),
      loss: m.timings[m.timings.length - 1].loss,
    };
  });
}

const fixed = (x: number, digits: number) => x.toFixed(digits);
const load = (values: number[]) => values.map((v) => v.toFixed(2)).join(' / ');

/** The table printed to stdout and written into report.md. */
export function costTable(rows: readonly CostRow[]): string[] {
  return [
    '| configuration | trains (floats) | cache s | cache MiB | train s | texts/s | 1st epoch | later epochs | vs recompute | vs frozen | step peak MiB | RSS MiB before → peak | tf MiB after | tensors left |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.configuration} | ${r.trainableParameters} | ${fixed(r.prepareSeconds, 2)} | ${fixed(r.cachedMiB, 2)} | ${fixed(r.seconds, 2)} | ${fixed(r.textsPerSecond, 1)} | ${fixed(r.firstEpochTextsPerSecond, 1)} | ` +
        `${r.laterEpochsTextsPerSecond === null ? '–' : fixed(r.laterEpochsTextsPerSecond, 1)} | ${fixed(r.vsBaseline, 2)}x | ${fixed(r.vsFrozen, 3)}x | ${fixed(r.peakStepMiB, 1)} | ${fixed(r.rssMiBBefore, 0)} → ${fixed(r.peakRssMiB, 0)} | ${fixed(r.tfMiBAfter, 1)} | ${r.leakedTensors} |`,
    ),
  ];
}

/** report.md. */
export function renderLoraCostReport(report: LoraCostReport): string {
  const described = report.rows.map((r) => `- **${r.configuration}**: ${r.description}.`);
  return [
    '# LoRA cost: what local training costs a client, per configuration',
    '',
    `${report.texts} texts of ${report.source} (${fixed(report.meanTokens, 1)} tokens a text on average), ${report.epochs} epoch(s), ${report.repeat} repetition(s) interleaved; ` +
      `${report.training.optimizer}, learning rate ${report.training.learningRate}, batch ${report.training.batchSize}, seed ${report.training.seed}; adapter width 64, linear head; ` +
      `LoRA rank ${report.lora.rank}, alpha ${report.lora.alpha} on ${report.lora.targets.join(', ')}. Backend: ${report.backend}.`,
    '',
    ...described,
    '',
    ...costTable(report.rows),
    '',
    'texts/s is N texts × E epochs over the training\'s wall seconds (median over repetitions); "vs recompute" is the ratio to lora-layer1-recompute (the baseline: ' +
      'the same LoRA with layer 0 recomputed at every step), "vs frozen" to adapter + head on cached features, each the median of the ratios within a repetition. ' +
      'The first epoch includes building the model and the optimiser. cache s and cache MiB: computing the cached features or states once, and their Float32Array bytes. ' +
      'step peak MiB: tensor bytes one training step on the longest texts holds above what was allocated before (tf.profile; the forward pass kept for the gradients). ' +
      'Peak RSS is the process\'s, read after every step of the first repetition, which runs the configurations in the table\'s order: the wasm heap only grows, so each figure is the high-water mark up to that configuration. ' +
      'tf MiB after includes the packaged encoder\'s weights.',
    '',
    `Machine: ${describeMachine(report.machine)}. Load average (1/5/15 min) at start ${load(report.loadAverage.start)}, at end ${load(report.loadAverage.end)}. ` +
      'Timings on a loaded machine vary from run to run; the ratios, measured side by side in one run, vary less.',
    '',
    `Command: \`${report.command}\` (${fixed(report.seconds, 0)} s).`,
    '',
  ].join('\n');
}
