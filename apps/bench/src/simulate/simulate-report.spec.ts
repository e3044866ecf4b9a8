import { dominantMemory, dominantTime, formatSimulateReport, metTarget, type SimulateReport } from './simulate-report';
import type { SimulationResult } from './simulation-run';

const MIB = 2 ** 20;

function result(overrides: Partial<SimulationResult> = {}): SimulationResult {
  return {
    clients: 1000,
    clientsPerRound: 10,
    roundsPlanned: 2,
    roundsCompleted: 2,
    verdict: 'finished',
    backend: 'wasm',
    workers: 2,
    modelParameters: 1000,
    clientsTrained: 20,
    clientRows: { min: 6, median: 6, max: 7 },
    rounds: [1, 2].map((round) => ({ round, attempt: 1, status: 'aggregated' as const, sampled: 10, accepted: 10, bytesDown: 2 * MIB, bytesUp: 3 * MIB, seconds: 2, finishedAt: '', trainLoss: 0.5, test: { accuracy: 0.5 + round / 10, macroF1: 0.5, loss: 0.6 } })),
    seconds: { coordinatorStart: 3, poolStart: 2, connect: 8, rounds: 5, total: 18 },
    pool: { jobs: 22, trainingSeconds: 2, evaluationSeconds: 0.5 },
    workerTensors: [6, 6],
    memory: {
      simulation: { peakRssBytes: 400 * MIB, stages: [{ stage: 'features ready', rssBytes: 200 * MIB }, { stage: '2 training workers started', rssBytes: 280 * MIB }, { stage: '1000 virtual clients joined', rssBytes: 300 * MIB }] },
      coordinator: { idleRssBytes: 100 * MIB, joinedRssBytes: 150 * MIB, peakRssBytes: 200 * MIB },
    },
    clientErrors: [],
    ...overrides,
  };
}

const preparation = { read: 1, embed: 20, partition: 0.5 };

describe('the simulate report', () => {
  it('names the largest stage and how busy the workers were, from the figures', () => {
    // 2 worker-seconds of training over 2 workers × 4 s of rounds: 25 %.
    expect(dominantTime(result(), preparation)).toMatch(/^embedding \(or reading the feature cache\) \(20\.0 s of 39\.5 s\), then connecting and joining 1000 virtual clients \(8\.0 s\)\. .*busy training 25\.0% /);
    expect(dominantMemory(result())).toContain('"up to features ready (Node.js, the modules, the texts and their features)" added the most (200 MiB)');
    expect(dominantMemory(result())).toContain('20 KiB per client');
    expect(dominantMemory(result())).toContain('51 KiB per client');
    expect(dominantMemory(result())).not.toContain('while embedding');
    expect(dominantMemory(result(), 1574)).toContain('peak 400 MiB (VmHWM), reached while embedding 1574 texts (the backbone in each embedding worker), above every stage of the federation (at most 300 MiB)');
  });

  it('meets the target only with every round done within 15 minutes and both peaks under 2 GiB', () => {
    expect(metTarget(result(), 600)).toBe(true);
    expect(metTarget(result(), 901)).toBe(false);
    expect(metTarget(result({ roundsCompleted: 1 }), 60)).toBe(false);
    expect(metTarget(result({ memory: { ...result().memory, coordinator: { idleRssBytes: 0, joinedRssBytes: 0, peakRssBytes: 2 * 2 ** 30 } } }), 60)).toBe(false);
  });

  it('writes one table row per round with its bytes and accuracy', () => {
    const report: SimulateReport = {
      command: 'fedtl bench simulate --data d --out o',
      machine: { cpuModel: 'cpu', cores: 2, memoryGiB: 24, platform: 'linux x64', node: 'v20' },
      loadAverage: { start: [1, 2, 3], end: [4, 5, 6] },
      data: { files: ['a.train.jsonl'], partition: 'dirichlet:0.5', trainRows: 6400, testRows: 1600, testSource: 'a.test.jsonl', labels: ['n', 'p'], embedding: { texts: 8000, cached: 8000, computed: 0, seconds: 1 } },
      preparationSeconds: preparation,
      result: result(),
      totalSeconds: 40,
      target: { wallSeconds: 900, peakRssBytes: 2 * 2 ** 30, met: true },
      dominant: { time: 'T', memory: 'M' },
    };
    const markdown = formatSimulateReport(report);
    expect(markdown).toContain('| 1 | 2.00 | 10 | 10 | 2.00 | 3.00 | 60.0% | 0.500 | 0.500 |');
    expect(markdown).toContain('| 2 | 2.00 | 10 | 10 | 2.00 | 3.00 | 70.0% | 0.500 | 0.500 |');
    expect(markdown).toContain('load average 1.00 / 2.00 / 3.00');
    expect(markdown).toContain('**met** (0.7 min; peaks 400 and 200 MiB)');
  });
});
