// The fedavg federation once per update compression (`bench domains --compression float32,float16,int8,topk:F`):
// what each one saves in bytes sent up per round against float32, and what it costs in mean accuracy. Issue 14's
// targets: bytes up per round /2 (float16), /4 (int8), at least /8 (top-k with error feedback), with mean
// accuracy no more than 0.5 point below float32 for float16 and int8 and 1 point for top-k.
import { parseUpdateCompression } from '@fedtl/protocol';
import type { RoundRecord } from './federation-run';
import { resultFromCurves, traffic } from './budget-run';
import { meanOf } from './report';

/** One compression's federation, as the bench ran it. */
export interface CompressionRun {
  /** The coordinator's --compression word: float32, float16, int8 or topk:F. */
  compression: string;
  records: readonly RoundRecord[];
  seconds: number;
  /** float32 taken from the fedavg row's run (same federation, float32 is the default). */
  sharedRunWith?: 'fedavg';
}

/** Issue 14's target for one encoding. */
export interface CompressionTarget {
  /** float32's bytes up per round over this row's must be at least this. */
  bytesReduction: number;
  /** This row's mean may be at most this far below float32's (a fraction: 0.005 is 0.5 point). */
  maxAccuracyDrop: number;
  /** Both hold. */
  met: boolean;
}

export interface CompressionRow {
  compression: string;
  /** Protocol payload bytes per round, clients to coordinator, summed over clients (the coordinator's count). */
  bytesUpPerRound: number;
  bytesDownPerRound: number;
  /** float32's bytesUpPerRound / this row's (1 for float32). */
  bytesUpReduction: number;
  /** Of bytesUpPerRound: the Update messages alone (the rest, evaluation reports and acknowledgements, is never compressed). */
  updateBytesPerRound: number;
  /** float32's updateBytesPerRound / this row's. */
  updateBytesReduction: number;
  /** Unweighted mean over domains of the final round's accuracy (a fraction). */
  mean: number;
  perDomain: Record<string, number>;
  /** mean − float32's mean (a fraction: −0.005 is half a point below). */
  deltaVsFloat32: number;
  seconds: number;
  sharedRunWith?: 'fedavg';
  /** Absent for float32 itself. */
  target?: CompressionTarget;
}

export interface CompressionComparison {
  baseline: 'float32';
  rows: CompressionRow[];
  /**
   * The machine's 1, 5 and 15 minute load averages (os.loadavg) before the first compressed run and after the last:
   * on a shared machine the wall seconds depend on it (bytes and accuracies do not: the runs are seeded).
   */
  loadAverage: { before: number[]; after: number[] };
}

/** The target for an encoding: bytes reduction and the largest accuracy drop allowed. */
export function targetOf(compression: string): Omit<CompressionTarget, 'met'> | undefined {
  const parsed = parseUpdateCompression(compression);
  switch (parsed?.encoding) {
    case 'float16':
      return { bytesReduction: 2, maxAccuracyDrop: 0.005 };
    case 'int8':
      return { bytesReduction: 4, maxAccuracyDrop: 0.005 };
    case 'sparse':
      return { bytesReduction: 8, maxAccuracyDrop: 0.01 };
    default:
      return undefined;
  }
}

/**
 * The rows of the comparison, float32 first.
 * @param runs one per compression, float32 among them
 * @param domains the report's domains, whose final-round accuracies make the mean
 * @throws Error without a float32 run (nothing to compare with)
 */
export function compareCompressions(runs: readonly CompressionRun[], domains: readonly string[], loadAverage: CompressionComparison['loadAverage']): CompressionComparison {
  const rowOf = (run: CompressionRun) => {
    const accuracy = resultFromCurves(domains.map((name) => ({ name, accuracies: run.records.map((r) => r.clients[name]?.accuracy ?? NaN) })));
    const cost = { ...traffic(run.records), updateBytes: meanOf(run.records.map((r) => r.updateBytesUp ?? NaN)) };
    return { run, accuracy, cost };
  };
  const measured = runs.map(rowOf);
  const baseline = measured.find((m) => m.run.compression === 'float32');
  if (!baseline) throw new Error(`a compression comparison needs a float32 run, got ${runs.map((r) => r.compression).join(', ')}`);
  const ordered = [baseline, ...measured.filter((m) => m !== baseline)];
  return {
    baseline: 'float32',
    loadAverage,
    rows: ordered.map(({ run, accuracy, cost }) => {
      const bytesUpReduction = baseline.cost.bytesUp / cost.bytesUp;
      const deltaVsFloat32 = accuracy.mean - baseline.accuracy.mean;
      const target = targetOf(run.compression);
      return {
        compression: run.compression,
        bytesUpPerRound: cost.bytesUp,
        bytesDownPerRound: cost.bytesDown,
        bytesUpReduction,
        updateBytesPerRound: cost.updateBytes,
        updateBytesReduction: baseline.cost.updateBytes / cost.updateBytes,
        mean: accuracy.mean,
        perDomain: accuracy.perDomain,
        deltaVsFloat32,
        seconds: run.seconds,
        ...(run.sharedRunWith ? { sharedRunWith: run.sharedRunWith } : {}),
        // A hair of float slack: a reduction of exactly 2 is /2.
        ...(target ? { target: { ...target, met: bytesUpReduction >= target.bytesReduction - 1e-9 && deltaVsFloat32 >= -target.maxAccuracyDrop - 1e-12 } } : {}),
      };
    }),
  };
}

/** report.md's compression table: bytes, accuracy, difference from float32 and the target per row. */
export function compressionLines(comparison: CompressionComparison, domains: readonly string[]): string[] {
  const pct = (accuracy: number) => (Number.isFinite(accuracy) ? (100 * accuracy).toFixed(1) : '–');
  const kib = (n: number) => `${(n / 2 ** 10).toFixed(1)} KiB`;
  // A float difference of −1e-16 is no difference: rounded before its sign is chosen.
  const points = (delta: number) => {
    const rounded = Math.round(10_000 * delta) / 100;
    return `${rounded >= 0 ? '+' : '−'}${Math.abs(rounded).toFixed(2)}`;
  };
  // Four significant digits: /1.998 must not read as /2.00 next to a target of /2.
  const factor = (reduction: number) => `/${reduction.toPrecision(4)}`;
  return [
    'Update compression on the fedavg federation (the coordinator\'s `--compression`; top-k with the clients\' error feedback). ' +
      'Bytes up are protocol payloads from the clients per round, summed over clients: all of them (updates, evaluation reports, acknowledgements), ' +
      'and the Update messages alone. A target is met when all bytes up shrink by at least its factor and the mean is at most its drop below float32\'s. ' +
      'float16 and int8 divide the tensor bytes by exactly 2 and 4; what does not shrink is each message\'s header (run and client ids, tensor names ' +
      'and shapes, int8\'s scales, the metrics) and the evaluation reports, which keeps the factors a hair under 2 and 4.',
    '',
    `| compression | ${domains.join(' | ')} | **mean** | Δ vs float32 (points) | up / round | reduction | updates / round | reduction | target | met | wall s |`,
    `|---|${domains.map(() => '---:').join('|')}|---:|---:|---:|---:|---:|---:|---|---|---:|`,
    ...comparison.rows.map((row) => {
      const target = row.target ? `≥ /${row.target.bytesReduction}, ≥ −${(100 * row.target.maxAccuracyDrop).toFixed(1)}` : 'baseline';
      const met = row.target ? (row.target.met ? 'yes' : '**no**') : '–';
      const seconds = row.sharedRunWith ? `(${row.sharedRunWith})` : row.seconds.toFixed(1);
      return `| ${row.compression} | ${domains.map((d) => pct(row.perDomain[d])).join(' | ')} | **${pct(row.mean)}** | ${points(row.deltaVsFloat32)} | ` +
        `${kib(row.bytesUpPerRound)} | ${factor(row.bytesUpReduction)} | ${kib(row.updateBytesPerRound)} | ${factor(row.updateBytesReduction)} | ${target} | ${met} | ${seconds} |`;
    }),
    '',
    `Load average (1, 5, 15 min) of the shared machine: ${comparison.loadAverage.before.map((l) => l.toFixed(2)).join(', ')} before the compressed runs, ` +
      `${comparison.loadAverage.after.map((l) => l.toFixed(2)).join(', ')} after; wall seconds depend on it, bytes and accuracies (seeded) do not.`,
  ];
}
