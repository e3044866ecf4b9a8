import { renderRoundTable, renderVerdict } from './demo-table';
import type { RoundRecord } from './metrics-log';

function record(round: number, clients: RoundRecord['clients'], status: RoundRecord['status'] = 'aggregated'): RoundRecord {
  return {
    runId: 'run-1',
    round,
    attempt: 1,
    status,
    selected: Object.keys(clients),
    accepted: Object.keys(clients),
    failures: [],
    train: {},
    evaluation: {},
    clients,
    bytesUp: 810_000,
    bytesDown: 1_620_000,
    seconds: 0.4,
    finishedAt: '2024-01-01T00:00:00.000Z',
  };
}

const ids = ['org-1', 'org-2', 'org-3'];
const final = record(2, {
  'org-1': { accuracy: 0.9, localOnlyAccuracy: 0.8, personalizedAccuracy: 0.92 },
  'org-2': { accuracy: 0.85, localOnlyAccuracy: 0.75, personalizedAccuracy: 0.75 },
  'org-3': { accuracy: 0.95, localOnlyAccuracy: 0.96, personalizedAccuracy: 0.94 },
});
const records = [
  record(1, { 'org-1': { accuracy: 0.7 }, 'org-2': { accuracy: 0.6 }, 'org-3': { accuracy: 0.8 } }),
  record(2, {}, 'failed'),
  final,
];

describe('renderRoundTable', () => {
  it('prints a row per aggregated round, then local only, the final global model and personalised per organisation', () => {
    expect(renderRoundTable(records, ids).split('\n')).toEqual([
      'round               org-1      org-2      org-3       mean      MB up    seconds',
      'global r1           70.0%      60.0%      80.0%      70.0%       0.81        0.4',
      'global r2           90.0%      85.0%      95.0%      90.0%       0.81        0.4',
      '',
      'after the run       org-1      org-2      org-3       mean',
      'local only          80.0%      75.0%      96.0%      83.7%',
      'federated r2        90.0%      85.0%      95.0%      90.0%',
      'personalised        92.0%      75.0%      94.0%      87.0%',
    ]);
  });

  it('leaves the comparison out when the clients report no baseline', () => {
    const table = renderRoundTable(records.slice(0, 1), ids);
    expect(table.split('\n')).toHaveLength(2);
    expect(table).not.toContain('local only');
  });
});

describe('renderVerdict', () => {
  it('compares the federated mean with local only and counts organisations where personalised keeps up', () => {
    expect(renderVerdict(records, ids)).toBe(
      'Verdict: the federated model beats local only by 6.3 points on average (90.0% vs 83.7%); ' +
        'personalised is at least as good as local only for 2 of 3 organisations.',
    );
  });

  it('says so when federation loses, and is silent without a local-only baseline', () => {
    const worse = record(1, { a: { accuracy: 0.8, localOnlyAccuracy: 0.81 } });
    expect(renderVerdict([worse], ['a'])).toBe('Verdict: the federated model trails local only by 1.0 point on average (80.0% vs 81.0%).');
    expect(renderVerdict(records.slice(0, 1), ids)).toBeUndefined();
    expect(renderVerdict([], ids)).toBeUndefined();
  });
});
