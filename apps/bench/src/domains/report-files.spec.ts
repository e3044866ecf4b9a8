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
    command: 'fedtl bench domains',
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
    expect(await readFile(join(sandbox.dir, 'report.md'), 'utf8')).toContain('- Model: backbone frozen, adapter width 8, linear head;');
  });

  it('says when the model has LoRA inside the backbone, with its rank, scale, projections and layers', async () => {
    const withLora = report(50, 0.7);
    withLora.hyperparameters = { ...withLora.hyperparameters, lora: { rank: 4, alpha: 8, layers: [1], targets: ['query', 'value'] } };
    await writeBudgetReport(sandbox.dir, withLora);
    expect(await readFile(join(sandbox.dir, 'report.md'), 'utf8')).toContain('- Model: LoRA rank 4 (α 8) in query, value of use-lite layer 1, adapter width 8, linear head;');
  });

  it('states fedavg-secagg’s largest accuracy difference from fedavg and both runs’ cost per round next to the table', async () => {
    const withSecAgg: DomainsReport = {
      ...report(50, 0.7),
      methods: { ...report(50, 0.7).methods, 'fedavg-secagg': result(0.73) },
      secureAggregation: {
        comparedWith: 'fedavg',
        rounds: 2,
        domains: 2,
        maxAccuracyDifference: 0.1,
        maxDifferenceInExamples: 1,
        worst: { domain: 'dvd', round: 2 },
        maxWeightDifference: 2.4e-7,
        plain: { bytesUp: 2048, bytesDown: 4096, secondsPerRound: 0.5 },
        secure: { bytesUp: 2150.4, bytesDown: 4096, secondsPerRound: 0.75 },
      },
    };
    await writeBudgetReport(sandbox.dir, withSecAgg);
    const markdown = await readFile(join(sandbox.dir, 'report.md'), 'utf8');
    expect(markdown).toContain('| fedavg-secagg | 73.0 | 73.0 | **73.0** |');
    expect(markdown).toContain('over 2 rounds × 2 domains: **10.00 points (1 test example), dvd after round 2**; final global weights differ by at most 2.4e-7 (');
    expect(markdown).toContain('| fedavg | 2.0 KiB | 4.0 KiB | 0.50 |');
    expect(markdown).toContain('| fedavg-secagg | 2.1 KiB (+5.0 %) | 4.0 KiB (+0.0 %) | 0.75 (+50 %) |');
    // Right below the accuracy table, before the negative-transfer line.
    expect(markdown.indexOf('fedavg-secagg is the fedavg federation')).toBeLessThan(markdown.indexOf('Negative transfer'));
    // With personalized measured in fedavg's run, its seconds are not comparable: no change is given, a note says why.
    await writeBudgetReport(sandbox.dir, { ...withSecAgg, methods: { ...withSecAgg.methods, personalized: { ...result(0.74), sharedRunWith: 'fedavg' } } });
    const shared = await readFile(join(sandbox.dir, 'report.md'), 'utf8');
    expect(shared).toContain('| fedavg | 2.0 KiB | 4.0 KiB | 0.50 * |');
    expect(shared).toContain('| fedavg-secagg | 2.1 KiB (+5.0 %) | 4.0 KiB (+0.0 %) | 0.75 |');
    expect(shared).toContain("\\* fedavg's rounds include the clients' private head fine-tuning for personalized");
    await writeSweepSummary(sandbox.dir, [withSecAgg]);
    expect(await readFile(join(sandbox.dir, 'sweep.md'), 'utf8')).toContain('**10.00 points (1 test example), dvd after round 2**');
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
