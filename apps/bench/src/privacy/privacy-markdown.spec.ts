import { DOMAINS_DEFAULTS } from '../domains/domains-config';
import { PRIVACY_DEFAULTS } from './privacy-config';
import { clientLevelTable, overheadTable, privacyMarkdown, recordLevelTable } from './privacy-markdown';
import { medianOf, privacySeedRun, summarizePrivacyRow, type OverheadRow, type PrivacyReport } from './privacy-report';

const head = { strategy: 'fedavg' as const, epsilon: null, noiseMultiplier: null, samplingRate: null, steps: null };
const dpHead = { strategy: 'fedadam' as const, epsilon: 4, noiseMultiplier: 0.86322, samplingRate: 0.01, steps: 2000 };
const plain = summarizePrivacyRow(head, [privacySeedRun(1, { books: 0.7, dvd: 0.76 }, null, 30), privacySeedRun(2, { books: 0.72, dvd: 0.74 }, null, 32)]);
const noisy = summarizePrivacyRow(dpHead, [privacySeedRun(1, { books: 0.6, dvd: 0.64 }, 3.98, 300), privacySeedRun(2, { books: 0.62, dvd: 0.6 }, 3.99, 310)]);

const overheadRow = (name: OverheadRow['name'], secondsPerRound: number, bytesUpPerRound: number, noiseMultiplier: number | null, spentEpsilon: number | null): OverheadRow => ({
  name, secondsPerRound, bytesUpPerRound, bytesDownPerRound: 2 * 1024 * 1024, mean: 0.7, noiseMultiplier, spentEpsilon, seconds: 20 * secondsPerRound,
});

const report: PrivacyReport = {
  suite: 'privacy',
  backbone: { id: 'use-lite', hash: 'ab'.repeat(32) },
  domains: ['books', 'dvd'],
  rounds: 20,
  delta: 1e-5,
  seeds: [1, 2],
  evaluatedOn: 'test',
  trainExamples: { books: 1600, dvd: 1600 },
  evaluationExamples: { books: 400, dvd: 400 },
  hyperparameters: { ...DOMAINS_DEFAULTS.model, ...DOMAINS_DEFAULTS.training, fedadam: DOMAINS_DEFAULTS.serverOptimizers.fedadam, recordClipNorm: 1 },
  recordLevel: [{ ...plain, labelsPerClient: 1600 }, { ...noisy, labelsPerClient: 1600 }],
  clientLevel: {
    simulated: true,
    settings: PRIVACY_DEFAULTS.clientLevel,
    clientExamples: { min: 3, median: 55, max: 240 },
    medianUpdateNorm: 0.8123,
    rows: [plain, noisy],
  },
  overhead: {
    labelsPerClient: 200,
    seed: 1,
    epsilon: 8,
    clientSamplingRate: 1,
    rows: [overheadRow('fedavg', 1, 1024 * 1024, null, null), overheadRow('record-dp', 4, 1024 * 1024, 1.1, 7.9), overheadRow('client-dp-secagg', 2.5, 1.5 * 1024 * 1024, 2.85, 7.99)],
  },
  leakageReport: 'docs/results/leakage/',
  backend: 'wasm',
  machine: { cpuModel: 'Test CPU', cores: 2, memoryGiB: 8, platform: 'linux x64', node: 'v20.0.0' },
  embedding: { texts: 10, cached: 10, computed: 0, seconds: 0.1 },
  seconds: 1234,
  command: 'fedtl bench privacy --seeds 1,2',
};

describe('privacy report.md', () => {
  it('renders the record-level table: labels, strategy, target ε, σ, q, steps, per-domain means, mean ± std, ε spent, time', () => {
    expect(recordLevelTable(report).split('\n')).toEqual([
      '| labels / client | strategy | target ε | σ | q | steps | books | dvd | **mean ± std** | ε spent | s / run |',
      '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
      '| 1600 | fedavg | ∞ | – | – | – | 71.0 | 75.0 | **73.0 ± 0.0** | – | 31.0 |',
      // means 0.62 and 0.61 → 61.5 ± 0.7; the largest ε any seed spent.
      '| 1600 | fedadam | 4 | 0.863 | 0.01 | 2000 | 61.0 | 62.0 | **61.5 ± 0.7** | 3.99 | 305.0 |',
    ]);
  });

  it('shows no spread for a single seed', () => {
    const one = { ...report, seeds: [1], recordLevel: [{ ...summarizePrivacyRow(dpHead, [privacySeedRun(1, { books: 0.6, dvd: 0.64 }, 3.98, 300)]), labelsPerClient: 200 }] };
    expect(recordLevelTable(one).split('\n')).toEqual([
      '| labels / client | strategy | target ε | σ | q | steps | books | dvd | **mean** | ε spent | s / run |',
      '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
      '| 200 | fedadam | 4 | 0.863 | 0.01 | 2000 | 60.0 | 64.0 | **62.0** | 3.98 | 300.0 |',
    ]);
  });

  it('renders the client-level table with z', () => {
    expect(clientLevelTable(report).split('\n')[3]).toBe('| fedadam | 4 | 0.863 | 61.0 | 62.0 | **61.5 ± 0.7** | 3.99 | 305.0 |');
  });

  it('gives each overhead row its ratio to plain FedAvg next to the absolute figures', () => {
    expect(overheadTable(report).split('\n').slice(2)).toEqual([
      '| FedAvg, no DP | 1.00 | 1.00× | 1024.0 KiB | 1.00× | 2048.0 KiB | 1.00× | 70.0 | – | – |',
      '| record-level DP-SGD | 4.00 | 4.00× | 1024.0 KiB | 1.00× | 2048.0 KiB | 1.00× | 70.0 | 1.100 | 7.90 |',
      '| client-level DP-FedAvg + secure aggregation | 2.50 | 2.50× | 1536.0 KiB | 1.50× | 2048.0 KiB | 1.00× | 70.0 | 2.850 | 7.99 |',
    ]);
  });

  it('says the client-level rows are simulated without sockets, links the leakage report and states the provenance', () => {
    const markdown = privacyMarkdown(report);
    expect(markdown).toContain('**Simulated in the bench process, no sockets:**');
    expect(markdown).toContain('100 clients by a Dirichlet label split');
    expect(markdown).toContain('Median L2 norm of an unclipped update (ε = ∞ row): 0.812; S = 1.');
    expect(markdown).toContain('[docs/results/leakage/](../leakage/)');
    expect(markdown).toContain('Wall time 1234.0 s on Test CPU, 2 cores');
    expect(markdown).toContain('Command: `fedtl bench privacy --seeds 1,2`');
  });

  it('leaves out the sections a partial run has not reached', () => {
    const partial = privacyMarkdown({ ...report, clientLevel: undefined, overhead: undefined, recordLevel: [], seeds: [] });
    expect(partial).not.toContain('## Client-level');
    expect(partial).not.toContain('## Overhead');
    expect(partial).toContain('over seeds (none yet)');
  });
});

describe('summarizePrivacyRow and medianOf', () => {
  it('takes the mean and spread over seeds and the largest ε spent', () => {
    expect(noisy.mean.n).toBe(2);
    expect(noisy.spentEpsilon).toBe(3.99);
    expect(plain.spentEpsilon).toBeNull();
    expect(() => summarizePrivacyRow(head, [])).toThrow(/at least one run/);
    expect(medianOf([3, 1, 2])).toBe(2);
    expect(medianOf([4, 1, 2, 3])).toBe(2.5);
  });
});
