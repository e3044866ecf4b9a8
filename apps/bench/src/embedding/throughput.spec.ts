import { withSpeedups } from './throughput';

describe('withSpeedups', () => {
  it('divides every throughput by the single-thread row’s, measured in the same run', () => {
    const rows = withSpeedups([
      { threads: 2, mode: 'workers', texts: 10, seconds: 1, sentencesPerSecond: 30, loadSeconds: 1 },
      { threads: 1, mode: 'in-process', texts: 10, seconds: 1, sentencesPerSecond: 20, loadSeconds: 1 },
    ]);
    expect(rows.map((r) => r.speedup)).toEqual([1.5, 1]);
  });
});
