// What `bench embedding` writes: report.json (every figure) and report.md (the tables people read).
import type { MachineInfo } from '../machine';
import { describeMachine } from '../machine';
import type { EmbeddingBenchWorkerInfo, GraphProfile } from './embedding-bench-worker';
import type { FlopsModel } from './kernel-flops';
import type { ThroughputRow } from './throughput';

/** One backend's results; every ratio in it was measured side by side in this run, on this backend. */
export interface BackendReport {
  backend: EmbeddingBenchWorkerInfo;
  texts: number;
  /** Texts every configuration embeds in turn (at most `texts`), and texts per forward pass on this backend. */
  chunk: number;
  batchSize: number;
  /** Tokens per text at the tokenizer's cap: mean, and the share of texts past the graph's bound. */
  meanTokens: number;
  clippedFraction: number;
  rows: ThroughputRow[];
  /** The configuration with the highest speedup over naive. */
  best: { configuration: ThroughputRow['configuration']; gflops: number; gflopsPerThread: number };
  /** GFLOP/s of one thread's dense [m, k] x [k, n] (the right-hand side held like a weight), same backend and run. */
  matmul: { m: number; k: number; n: number; gflops: number };
  /** 1 - (best configuration's GFLOP/s per thread) / (dense matmul GFLOP/s): the share of the time that is not the model's arithmetic at the matmul rate. */
  waste: number;
  /** The tokenizer alone over the same texts, one thread: seconds per text, and its share of a naive pass. */
  tokenizer: { msPerText: number; shareOfNaive: number };
  profiles: { naive: GraphProfile; bucketed: GraphProfile };
  /** FLOPs of a text as counted from this backend's profiled kernels, and the check at other lengths. */
  flops: { model: FlopsModel; checks: Array<{ tokens: number; counted: number; predicted: number }> };
  /** Most tensors any embedding call left behind (0 expected). */
  leakedTensors: number;
}

export interface EmbeddingReport {
  suite: 'embedding';
  command: string;
  backbone: 'use-lite';
  source: string;
  machine: MachineInfo;
  /** os.loadavg() (1, 5, 15 minutes) when the run started and when it ended. */
  loadAverage: { start: number[]; end: number[] };
  /** As requested; each backend states the chunk and batch size it used (fewer texts make both smaller). */
  settings: { repetitions: number; chunk: number; batchSize: number; threads: number; tokenizerMaxTokens: number };
  backends: BackendReport[];
  seconds: number;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const load = (values: number[]) => values.map((v) => v.toFixed(2)).join(' / ');

function profileTable(profile: GraphProfile): string[] {
  const kernelMs = profile.kernels.reduce((sum, k) => sum + k.ms, 0);
  const shown = profile.kernels.slice(0, 8);
  const rest = profile.kernels.slice(8);
  const restMs = rest.reduce((sum, k) => sum + k.ms, 0);
  return [
    '| kernel | runs | ms | share of wall | GFLOP/s |',
    '|---|---:|---:|---:|---:|',
    ...shown.map((k) => `| ${k.name} | ${k.runs} | ${k.ms.toFixed(1)} | ${pct(k.ms / profile.wallMs)} | ${k.flops > 0 ? (k.flops / k.ms / 1e6).toFixed(2) : '–'} |`),
    `| ${rest.length} other kernels (element-wise, gather/scatter, reshapes) | ${rest.reduce((sum, k) => sum + k.runs, 0)} | ${restMs.toFixed(1)} | ${pct(restMs / profile.wallMs)} | – |`,
    `| outside kernels (graph executor, tokenizer, JS, copies) | – | ${(profile.wallMs - kernelMs).toFixed(1)} | ${pct((profile.wallMs - kernelMs) / profile.wallMs)} | – |`,
  ];
}

/** report.md: per backend, the configurations' table, the arithmetic rate against matmul, and the profile. */
export function renderEmbeddingReport(report: EmbeddingReport): string {
  const lines = [
    '# Embedding throughput: use-lite on the review data',
    '',
    `${report.source}, at most ${report.settings.tokenizerMaxTokens} tokens a text (the tokenizer's cap; the graph reads the first ${report.backends[0]?.backend.maxTokens ?? '?'}), no feature cache. ` +
      `${report.settings.repetitions} repetitions over the texts; in each, every configuration embeds a chunk in turn before the next chunk, so the configurations are interleaved within seconds. ` +
      `texts/s is the median over repetitions, speedupOverNaive the median of the per-repetition ratios to naive. The pool has ${report.settings.threads} worker threads.`,
    '',
    `Machine: ${describeMachine(report.machine)}. Load average (1/5/15 min) at start ${load(report.loadAverage.start)}, at end ${load(report.loadAverage.end)}` +
      (report.loadAverage.start[0] >= 1 ? ': other work shared the cores, so absolute figures are low and the ratios are what compares.' : ' (no other work at the start).'),
    '',
  ];
  for (const b of report.backends) {
    const naive = b.rows.find((r) => r.configuration === 'naive');
    lines.push(
      `## ${b.backend.backend} (${b.backend.provider}${b.backend.wasmSimd === undefined ? '' : `, SIMD ${b.backend.wasmSimd ? 'on' : 'off'}, multi-threaded binary ${b.backend.wasmMultithread ? 'on' : 'off'}`})`,
      '',
      `${b.texts} texts in chunks of ${b.chunk}, batches of ${b.batchSize}; ${b.meanTokens.toFixed(1)} tokens a text on average, ${pct(b.clippedFraction)} of texts past the graph's ${b.backend.maxTokens}.`,
      '',
      '| configuration | what | texts/s | speedupOverNaive | GFLOP/s | padding |',
      '|---|---|---:|---:|---:|---:|',
      ...b.rows.map((r) => `| ${r.configuration} | ${r.description} | ${r.textsPerSecond.toFixed(2)} | ${r.speedupOverNaive.toFixed(2)}x | ${r.gflops.toFixed(2)} | ${pct(r.paddingFraction)} |`),
      '',
      `Best: **${b.best.configuration}**, ${b.rows.find((r) => r.configuration === b.best.configuration)?.speedupOverNaive.toFixed(2)}x naive; the model's arithmetic at **${b.best.gflops.toFixed(2)} GFLOP/s** ` +
        `(${b.best.gflopsPerThread.toFixed(2)} per thread) against this backend's dense matmul at **${b.matmul.gflops.toFixed(2)} GFLOP/s** on one thread ` +
        `([${b.matmul.m}, ${b.matmul.k}] x [${b.matmul.k}, ${b.matmul.n}], same run): ${pct(b.waste)} of the time is not the model's arithmetic at the matmul rate.`,
      '',
      `Tokenizer alone: ${b.tokenizer.msPerText.toFixed(2)} ms a text, ${pct(b.tokenizer.shareOfNaive)} of a naive pass.` +
        (naive ? ` FLOPs a text: ${(b.flops.model.constant / 1e6).toFixed(2)} M + ${(b.flops.model.perToken / 1e6).toFixed(3)} M·n + ${(b.flops.model.perTokenSquared / 1e3).toFixed(2)} k·n² for n ≤ ${b.flops.model.maxTokens} tokens (counted from the profiled kernels; checks at n = ${b.flops.checks.map((c) => `${c.tokens}: ${Math.abs(c.counted - c.predicted) <= 1e-9 * c.counted ? 'exact' : `${c.counted} vs ${c.predicted.toFixed(0)}`}`).join(', ')}).` : ''),
      `Kernels without a ${b.backend.backend} implementation: ${b.profiles.bucketed.kernels.filter((k) => !k.registered).map((k) => k.name).join(', ') || 'none'}. Tensors left behind by any call: ${b.leakedTensors}.`,
      '',
      `Where the time goes, bucketed (${b.profiles.bucketed.texts} texts, ${b.profiles.bucketed.wallMs.toFixed(0)} ms under tf.profile):`,
      '',
      ...profileTable(b.profiles.bucketed),
      '',
      `Naive, on the stock kernels (${b.profiles.naive.texts} texts, ${b.profiles.naive.wallMs.toFixed(0)} ms under tf.profile):`,
      '',
      ...profileTable(b.profiles.naive),
      '',
    );
  }
  lines.push(`Command: \`${report.command}\` (${report.seconds.toFixed(0)} s).`, '');
  return lines.join('\n');
}
