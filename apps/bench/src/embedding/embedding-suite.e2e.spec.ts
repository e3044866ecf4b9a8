// The embedding benchmark end to end on a handful of texts, wasm only: every configuration measured (the pool in
// two worker threads), the graph profiled, its FLOPs counted, report.json and report.md written, every worker
// thread stopped. No figure is asserted: speed belongs to the benchmark, not to a test.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { configureLogging } from '@fedtl/util';
import { useTestSandbox } from '@fedtl/util/testing';
import { commandLine } from '../testing/command-line';
import { EMBEDDING_SUITE_OPTIONS } from './embedding-options';
import type { EmbeddingReport } from './embedding-report';
import { runEmbeddingSuite } from './embedding-suite';

describe('embedding benchmark', () => {
  const sandbox = useTestSandbox();
  beforeAll(() => configureLogging({ level: 'warn' }));

  it('measures naive, unbatched, batched, bucketed and the pool on wasm and writes report.json and report.md', async () => {
    const data = join(sandbox.dir, 'reviews.jsonl');
    const long = 'A long review that goes on about the plot, the characters and the ending. ';
    const texts = ['Fine.', long.repeat(12), 'Ok', long.repeat(4)];
    await writeFile(data, texts.map((text) => JSON.stringify({ text, label: 'positive' })).join('\n') + '\n');
    const out = join(sandbox.dir, 'out');
    const write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const progress = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    let code: number;
    try {
      code = await runEmbeddingSuite(
        commandLine(EMBEDDING_SUITE_OPTIONS, ['--backends', 'wasm', '--texts', '4', '--repetitions', '1', '--batch-size', '2', '--threads', '2', '--data-file', data, '--out', out]),
      );
    } finally {
      write.mockRestore();
      progress.mockRestore();
    }
    expect(code).toBe(0);
    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as EmbeddingReport;
    expect(report.backends).toHaveLength(1);
    const [wasm] = report.backends;
    expect(wasm.backend.backend).toBe('wasm');
    expect(wasm.rows.map((r) => r.configuration)).toEqual(['naive', 'unbatched', 'batched', 'bucketed', 'pool']);
    for (const row of wasm.rows) {
      expect(row.texts).toBe(4);
      expect(row.textsPerSecond).toBeGreaterThan(0);
      expect(row.gflops).toBeGreaterThan(0);
    }
    expect(wasm.rows[0].speedupOverNaive).toBe(1);
    // Input order pairs each long text with a short one; length buckets pair the two long ones.
    expect(wasm.rows[3].paddingFraction).toBeLessThan(wasm.rows[2].paddingFraction);
    for (const check of wasm.flops.checks) expect(check.predicted).toBeCloseTo(check.counted, -1);
    expect(wasm.leakedTensors).toBe(0);
    expect(wasm.profiles.bucketed.kernels.every((k) => k.registered)).toBe(true);
    expect(wasm.matmul.gflops).toBeGreaterThan(0);
    const markdown = await readFile(join(out, 'report.md'), 'utf8');
    expect(markdown).toContain('| configuration | what | texts/s | speedupOverNaive | GFLOP/s | padding |');
  });
});
