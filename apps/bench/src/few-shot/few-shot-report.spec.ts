import { machineInfo } from '../machine';
import { chooseLearningRates, fewShotMarkdown, pairedDifferences, summarize, type AdaptationRecord, type FewShotReport, type InitName } from './few-shot-report';

/**
 * Records where accuracy = base[init] + k/1000 + seed/100 + (domain b ? 0.1 : 0), so every mean is known; fedavg
 * is also adapted with a second step size that does 0.02 worse.
 */
function records(): AdaptationRecord[] {
  const base: Record<InitName, number> = { 'per-fedavg': 0.6, fedavg: 0.55, scratch: 0.3 };
  const out: AdaptationRecord[] = [];
  for (const seed of [1, 2, 3]) {
    for (const domain of ['a', 'b']) {
      for (const init of ['per-fedavg', 'fedavg', 'scratch'] as const) {
        for (const shots of [0, 8, 32]) {
          const accuracy = base[init] + shots / 1000 + seed / 100 + (domain === 'b' ? 0.1 : 0);
          out.push({ seed, domain, init, shots, learningRate: shots === 0 ? 0 : 0.1, startSha256: init, accuracy, macroF1: 0.5 });
          if (init === 'fedavg' && shots > 0) out.push({ seed, domain, init, shots, learningRate: 0.5, startSha256: init, accuracy: accuracy - 0.02, macroF1: 0.5 });
        }
      }
    }
  }
  return out;
}

describe('few-shot report', () => {
  it('averages over new domains, then gives mean and sample std over seeds, and per-domain means', () => {
    const cells = summarize(records(), [1, 2, 3], [8, 32], ['a', 'b']);
    expect(cells.map((c) => `${c.init}@${c.shots}/${c.learningRate}`)).toEqual([
      'per-fedavg@0/0', 'per-fedavg@8/0.1', 'per-fedavg@32/0.1', 'fedavg@0/0', 'fedavg@8/0.1', 'fedavg@32/0.1', 'fedavg@8/0.5', 'fedavg@32/0.5', 'scratch@0/0', 'scratch@8/0.1', 'scratch@32/0.1',
    ]);
    const cell = cells.find((c) => c.init === 'fedavg' && c.shots === 32 && c.learningRate === 0.1);
    // Per seed: 0.55 + 0.032 + seed/100 + 0.05 → 0.642, 0.652, 0.662: mean 0.652, sample std 0.01.
    expect(cell?.accuracy.mean).toBeCloseTo(0.652, 12);
    expect(cell?.accuracy.std).toBeCloseTo(0.01, 12);
    expect(cell?.perDomain.a).toBeCloseTo(0.602, 12);
    expect(cell?.perDomain.b).toBeCloseTo(0.702, 12);
    expect(() => summarize(records(), [1, 4], [8], ['a'])).toThrow('no record for seed 4, per-fedavg, step size 0, k = 0');
    expect(chooseLearningRates(cells)).toEqual({ 'per-fedavg': 0.1, fedavg: 0.1, scratch: 0.1 });
  });

  it('pairs differences by seed, so a shift shared by both inits cancels', () => {
    const [difference] = pairedDifferences(records(), [1, 2, 3], [8], [['per-fedavg', 'fedavg']], { 'per-fedavg': 0.1, fedavg: 0.1, scratch: 0.1 });
    expect(difference).toMatchObject({ a: 'per-fedavg', b: 'fedavg', shots: 8 });
    expect(difference.difference.mean).toBeCloseTo(0.05, 12);
    expect(difference.difference.std).toBeCloseTo(0, 12);
    const [againstWorse] = pairedDifferences(records(), [1, 2, 3], [8], [['per-fedavg', 'fedavg']], { 'per-fedavg': 0.1, fedavg: 0.5, scratch: 0.1 });
    expect(againstWorse.difference.mean).toBeCloseTo(0.07, 12);
  });

  it('renders the table, the paired differences and the provenance', () => {
    const report: FewShotReport = {
      suite: 'few-shot', evaluatedOn: 'test', domains: ['a', 'b'], seeds: [1, 2, 3], shots: [8, 32], labelsPerClient: 200, rounds: 20, steps: 10, metaInnerLearningRate: 0.5,
      chosenLearningRates: { 'per-fedavg': 0.1, fedavg: 0.1, scratch: 0.1 },
      hyperparameters: { adapterWidth: 64 }, backbone: { id: 'use-lite', hash: 'e7eb64d0bda7'.padEnd(64, '0') }, backend: 'wasm', machine: machineInfo(), seconds: 12, command: 'fedtl bench few-shot',
      cells: summarize(records(), [1, 2, 3], [8, 32], ['a', 'b']),
      comparisons: pairedDifferences(records(), [1, 2, 3], [8, 32], [['per-fedavg', 'fedavg'], ['fedavg', 'scratch']], { 'per-fedavg': 0.1, fedavg: 0.1, scratch: 0.1 }),
      federations: [{ seed: 1, newDomain: 'a', strategy: 'fedavg', seconds: 10, bytesUp: 3 * 2 ** 20, weightsSha256: '0'.repeat(64) }], records: records(),
    };
    const markdown = fewShotMarkdown(report);
    expect(markdown).toContain('| initialisation | step size | k = 0 | k = 8 | k = 32 |');
    expect(markdown).toContain('| (b) FedAvg | 0.1 (chosen) | 62.0 ± 1.0 | 62.8 ± 1.0 | 65.2 ± 1.0 |');
    expect(markdown).toContain('| (b) FedAvg | 0.5 | 62.0 ± 1.0 | 60.8 ± 1.0 | 63.2 ± 1.0 |');
    expect(markdown).toContain('| per-fedavg − fedavg | +5.0 ± 0.0 | +5.0 ± 0.0 |');
    expect(markdown).toContain('| fedavg − scratch | +25.0 ± 0.0 | +25.0 ± 0.0 |');
    expect(markdown).toContain('bytes up per round 3.00 MiB');
    expect(markdown).toContain('- Command: `fedtl bench few-shot`');
  });
});
