import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { useTestSandbox } from '@fedtl/util/testing';
import { isWellFormedXml } from '../testing/xml';
import { DOMAINS_DEFAULTS } from './domains-config';
import type { DomainsReport, MethodResult } from './report';
import { budgetDir, writeBudgetReport, writeSweepSummary } from './report-files';

const result = (mean: number): MethodResult => ({ mean, perDomain: { books: mean, dvd: mean }, curve: [{ round: 1, mean: mean - 0.1 }, { round: 2, mean }], bytesUp: 2048, bytesDown: 4096, seconds: 1 });

function report(labelsPerClient: number, level: number): DomainsReport {
  return {
    suite: 'domains',
    backbone: { id: 'use-lite', hash: 'ab'.repeat(32) },
    domains: ['books', 'dvd'],
    labelsPerClient,
    rounds: 2,
    seed: 7,
    evaluatedOn: 'test',
    trainExamples: { books: labelsPerClient, dvd: labelsPerClient },
    evaluationExamples: { books: 10, dvd: 10 },
    hyperparameters: { adapterWidth: 8, head: 'linear', headHidden: 8, localEpochs: 1, batchSize: 4, learningRate: 0.01, optimizer: 'adam', personalizeEpochs: 1, serverOptimizers: DOMAINS_DEFAULTS.serverOptimizers },
    backend: 'cpu',
    machine: { cpuModel: 'test cpu', cores: 2, memoryGiB: 4, platform: 'linux x64', node: 'v20' },
    embedding: { texts: 40, cached: 40, computed: 0, seconds: 0.1 },
    seconds: 3,
    command: 'npm run bench -- domains',
    methods: { local: result(level), centralized: result(level + 0.05), fedavg: result(level + 0.03) },
    negativeTransfer: [],
  };
}

describe('report files', () => {
  const sandbox = useTestSandbox();

  it('puts a single budget straight into OUT and each budget of a sweep into OUT/labels-N', () => {
    expect(budgetDir('/o', 50, false)).toBe('/o');
    expect(budgetDir('/o', 50, true)).toBe(join('/o', 'labels-50'));
  });

  it('writes report.json, report.md and a well-formed accuracy.svg', async () => {
    await writeBudgetReport(sandbox.dir, report(50, 0.7));
    expect((await readdir(sandbox.dir)).sort()).toEqual(['accuracy.svg', 'report.json', 'report.md']);
    expect(JSON.parse(await readFile(join(sandbox.dir, 'report.json'), 'utf8')).methods.fedavg.mean).toBeCloseTo(0.73);
    expect(await readFile(join(sandbox.dir, 'report.md'), 'utf8')).toContain('| fedavg | 73.0 | 73.0 | **73.0** | 2.0 KiB | 4.0 KiB | 1.0 |');
    expect(isWellFormedXml(await readFile(join(sandbox.dir, 'accuracy.svg'), 'utf8'))).toBe(true);
  });

  it('summarises a sweep in sweep.json, sweep.md and a well-formed sweep.svg, budgets in order', async () => {
    await writeSweepSummary(sandbox.dir, [report(200, 0.75), report(50, 0.7)]);
    expect((await readdir(sandbox.dir)).sort()).toEqual(['sweep.json', 'sweep.md', 'sweep.svg']);
    const summary = JSON.parse(await readFile(join(sandbox.dir, 'sweep.json'), 'utf8'));
    expect(summary.budgets.map((b: { labelsPerClient: number; report: string }) => [b.labelsPerClient, b.report])).toEqual([
      [50, join('labels-50', 'report.json')],
      [200, join('labels-200', 'report.json')],
    ]);
    const svg = await readFile(join(sandbox.dir, 'sweep.svg'), 'utf8');
    expect(isWellFormedXml(svg)).toBe(true);
    expect(svg.match(/<polyline /g)).toHaveLength(3);
  });
});
