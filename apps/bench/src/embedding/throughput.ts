// One measured configuration of the embedding benchmark, and the ratio against the single-thread baseline.

export interface ThroughputRow {
  threads: number;
  mode: 'in-process' | 'workers';
  texts: number;
  seconds: number;
  sentencesPerSecond: number;
  /** Over the single-thread in-process row. */
  speedup: number;
  loadSeconds: number;
}

export function withSpeedups(rows: ReadonlyArray<Omit<ThroughputRow, 'speedup'>>): ThroughputRow[] {
  const baseline = rows.find((row) => row.threads === 1)?.sentencesPerSecond ?? rows[0].sentencesPerSecond;
  return rows.map((row) => ({ ...row, speedup: row.sentencesPerSecond / baseline }));
}
