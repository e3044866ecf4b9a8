import type { RoundRecord } from '../domains/federation-run';
import { outcomeOf, runDirOf } from './cross-task-run';

function record(round: number, clients: RoundRecord['clients']): RoundRecord {
  return { round, status: 'aggregated', clients, bytesUp: 1, bytesDown: 1, seconds: 1 };
}

describe('outcomeOf', () => {
  it('takes the last aggregated round’s accuracy and macro-F1 per domain, and the mean accuracy of every round', () => {
    const outcome = outcomeOf(
      [record(1, { a: { accuracy: 0.25, macroF1: 0.1 }, b: { accuracy: 0.75, macroF1: 0.3 } }), record(2, { a: { accuracy: 0.5, macroF1: 0.4 }, b: { accuracy: 1, macroF1: 1, loss: 0.2 } })],
      ['a', 'b'],
      12,
    );
    expect(outcome).toEqual({ perDomain: { a: { accuracy: 0.5, macroF1: 0.4 }, b: { accuracy: 1, macroF1: 1 } }, accuracy: 0.75, macroF1: 0.7, curve: [0.5, 0.75], seconds: 12 });
  });

  it('refuses a run without rounds or a domain without its metrics, naming round and domain', () => {
    expect(() => outcomeOf([], ['a'], 1)).toThrow('expected at least one aggregated round, got none');
    expect(() => outcomeOf([record(3, { a: { accuracy: 0.5 } })], ['a'], 1)).toThrow("round 3: expected a's macroF1 in metrics.jsonl");
  });
});

describe('runDirOf', () => {
  it('names the source run and each target run by budget and init', () => {
    expect(runDirOf('/r/seed-1', 'source')).toBe('/r/seed-1/source');
    expect(runDirOf('/r/seed-1', { labelsPerClient: 20, init: 'init-from' })).toBe('/r/seed-1/rating-20-init-from');
  });
});
