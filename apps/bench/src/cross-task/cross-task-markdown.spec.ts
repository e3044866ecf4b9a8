import { crossTaskMarkdown, crossTaskTable, curveRounds, curveTable, differenceTable, differenceText, referenceLine, spreadText } from './cross-task-markdown';
import { spreadOf } from '../seed-spread';
import { summarise, type CrossTaskReport, type FederationOutcome, type SeedRuns } from './cross-task-report';

function outcome(accuracy: number): FederationOutcome {
  return { perDomain: { books: { accuracy, macroF1: 0.6 * accuracy } }, accuracy, macroF1: 0.6 * accuracy, curve: [accuracy], seconds: 3 };
}

function reportOf(perSeed: SeedRuns[]): CrossTaskReport {
  const summary = summarise(perSeed, ['books'], [20]);
  return {
    suite: 'cross-task',
    backbone: { id: 'use-lite', hash: 'ab'.repeat(32) },
    domains: ['books'],
    seeds: perSeed.map((s) => s.seed),
    rounds: 20,
    evaluatedOn: 'test',
    source: { task: 'sentiment', labels: ['negative', 'positive'], labelsPerClient: 200, ...summary.source },
    target: { task: 'rating', labels: ['1', '2', '4', '5'], labelsPerClient: [20] },
    reference: { chance: 0.25, majorityClass: { books: { label: '5', accuracy: 0.37 } }, majorityClassMean: 0.37 },
    rows: summary.rows,
    differences: summary.differences,
    evaluationExamples: { books: 400 },
    hyperparameters: { adapterWidth: 64, head: 'linear', headHidden: 64, localEpochs: 1, batchSize: 16, learningRate: 0.003, optimizer: 'adam' },
    backend: 'wasm',
    machine: { cpuModel: 'cpu', cores: 2, memoryGiB: 8, platform: 'linux x64', node: 'v20' },
    embedding: { texts: 10, cached: 10, computed: 0, seconds: 0.5 },
    seconds: 123.4,
    command: 'fedtl bench cross-task --data-dir d --out o',
    perSeed,
  };
}

const report = reportOf([
  { seed: 1, source: outcome(0.8), targets: { '20': { 'init-from': outcome(0.45), scratch: outcome(0.4) } } },
  { seed: 2, source: outcome(0.9), targets: { '20': { 'init-from': outcome(0.52), scratch: outcome(0.4) } } },
]);

describe('cross-task report.md', () => {
  it('writes mean ± sd in percent, differences signed, and leaves the sd out for one seed', () => {
    expect(spreadText(spreadOf([0.4, 0.5]))).toBe('45.0 ± 7.1');
    expect(spreadText(spreadOf([0.4]))).toBe('40.0');
    expect(differenceText(spreadOf([-0.05, -0.15]))).toBe('−10.0 ± 7.1');
    expect(differenceText(spreadOf([0.02]))).toBe('+2.0');
  });

  it('tabulates budget × init with per-domain columns', () => {
    expect(crossTaskTable(report).split('\n')).toEqual([
      '| labels per client | init | **accuracy** | macro-F1 | books |',
      '|---:|---|---:|---:|---:|',
      '| 20 | init-from | **48.5 ± 4.9** | 29.1 ± 3.0 | 48.5 ± 4.9 |',
      '| 20 | scratch | **40.0 ± 0.0** | 24.0 ± 0.0 | 40.0 ± 0.0 |',
    ]);
  });

  it('gives the paired difference, the seeds where init-from is better and whether it beats scratch', () => {
    expect(differenceTable(report).split('\n')[2]).toBe('| 20 | **+8.5 ± 4.9** | +5.1 ± 3.0 | 2 of 2 | yes |');
    const worse = reportOf([{ seed: 1, source: outcome(0.8), targets: { '20': { 'init-from': outcome(0.3), scratch: outcome(0.4) } } }]);
    expect(differenceTable(worse).split('\n')[2]).toBe('| 20 | **−10.0** | −6.0 | 0 of 1 | no |');
  });

  it('shows each row’s accuracy after rounds 1, 5, 10, 15 and the last, those the run had', () => {
    expect(curveRounds(20)).toEqual([1, 5, 10, 15, 20]);
    expect(curveRounds(12)).toEqual([1, 5, 10, 12]);
    expect(curveRounds(1)).toEqual([1]);
    // The fixture's outcomes have a one-round curve, on a report that claims 20 rounds: later rounds are '–'.
    expect(curveTable(report).split('\n')[2]).toBe('| 20 | init-from | 48.5 | – | – | – | – |');
  });

  it('states chance and majority class, the source run, every seed, the machine, wall time and command', () => {
    expect(referenceLine(report)).toContain('chance 25.0 %; majority class');
    expect(referenceLine(report)).toContain('books 37.0 (“5”), mean 37.0 %');
    const markdown = crossTaskMarkdown(report);
    expect(markdown).toContain('# Cross-task transfer: sentiment → star rating');
    expect(markdown).toContain('Source federation (sentiment, 200 labels per client): accuracy 85.0 ± 7.1 %');
    expect(markdown).toContain('## Accuracy after round r (mean over domains and seeds, %; the table above is round 20)');
    expect(markdown).toContain('| seed | source (sentiment) | 20 init-from | 20 scratch |');
    expect(markdown).toContain('| 2 | 90.0 | 52.0 | 40.0 |');
    expect(markdown).toContain('- Wall time 123.4 s on cpu, 2 cores, 8 GiB RAM, linux x64, Node v20.');
    expect(markdown).toContain('- Command: `fedtl bench cross-task --data-dir d --out o`');
  });
});
