import { STRATEGIES_DEFAULTS } from './strategies-config';
import { strategiesMarkdown, strategiesTable, targetLines } from './strategies-markdown';
import { checkTargets, seedRun, summarizeRow, type StrategiesReport } from './strategies-report';

const traffic = { bytesUp: 1024 * 1050, bytesDown: 4096, seconds: 30 };
const rows = [
  summarizeRow('fedavg', false, [seedRun(1, { books: 0.7, dvd: 0.76 }, 'books', traffic), seedRun(2, { books: 0.72, dvd: 0.74 }, 'books', traffic)]),
  summarizeRow('median', true, [seedRun(1, { books: 0.5, dvd: 0.7 }, 'books', traffic), seedRun(2, { books: 0.52, dvd: 0.66 }, 'books', traffic)]),
];

const report: StrategiesReport = {
  suite: 'strategies',
  backbone: { id: 'use-lite', hash: 'ab'.repeat(32) },
  domains: ['books', 'dvd'],
  labelsPerClient: 50,
  rounds: 20,
  seeds: [1, 2],
  evaluatedOn: 'test',
  attack: { kind: 'scaled sign flip', client: 'books', scale: 10 },
  trainExamples: { books: 50, dvd: 50 },
  evaluationExamples: { books: 400, dvd: 400 },
  hyperparameters: {
    adapterWidth: 64, head: 'linear', headHidden: 64, localEpochs: 1, batchSize: 16, learningRate: 0.003, optimizer: 'adam',
    serverOptimizers: { fedavgm: { serverLearningRate: 0.2, serverMomentum: 0.8 }, fedadam: { serverLearningRate: 0.003, beta1: 0.9, beta2: 0.99, tau: 1e-3 } },
    strategies: STRATEGIES_DEFAULTS.settings,
  },
  backend: 'wasm',
  machine: { cpuModel: 'Test CPU', cores: 2, memoryGiB: 8, platform: 'linux x64', node: 'v20.0.0' },
  embedding: { texts: 10, cached: 10, computed: 0, seconds: 0.1 },
  seconds: 125,
  command: 'fedtl bench strategies --seeds 1,2',
  rows,
  targets: checkTargets(rows),
};

describe('strategies report.md', () => {
  it('renders one line per row: per-domain means, mean ± sample std, the honest mean, traffic and time', () => {
    expect(strategiesTable(report).split('\n')).toEqual([
      '| strategy | attacker | books | dvd | **mean ± std** | 1 honest ± std | up / round | s / run |',
      '|---|---|---:|---:|---:|---:|---:|---:|',
      // fedavg: means 0.73, 0.73 → 73.0 ± 0.0; dvd alone 0.76, 0.74 → 75.0 ± 1.4.
      '| fedavg | – | 71.0 | 75.0 | **73.0 ± 0.0** | 75.0 ± 1.4 | 1050.0 KiB | 30.0 |',
      // median under attack: means 0.60, 0.59 → 59.5 ± 0.7.
      '| median | books (−10×) | 51.0 | 68.0 | **59.5 ± 0.7** | 68.0 ± 2.8 | 1050.0 KiB | 30.0 |',
    ]);
  });

  it('says which targets the rows allow to check are met', () => {
    expect(targetLines(report)).toEqual([]);
    const withClean = { ...report, targets: checkTargets([...rows, summarizeRow('median', false, [seedRun(1, { books: 0.72, dvd: 0.74 }, 'books', traffic)])]) };
    expect(targetLines(withClean)).toEqual([
      '- ✅ met: median, no attacker: at most 1 point below fedavg: +0.0 points.',
      '- ❌ missed: median, under attack: at most 2 points below its no-attack accuracy: −13.5 points.',
    ]);
  });

  it('states the settings, the machine, the wall time and the command', () => {
    const markdown = strategiesMarkdown(report);
    expect(markdown).toContain('mean ± sample standard deviation over 2 seeds (1, 2)');
    expect(markdown).toContain('Krum needs n > 2f + 2 updates, so 2 clients cannot run it');
    expect(markdown).toContain('- 4 federations, one after another.');
    expect(markdown).toContain('Wall time 125.0 s on Test CPU, 2 cores');
    expect(markdown).toContain('Command: `fedtl bench strategies --seeds 1,2`');
  });
});
