// The two benchmark figures: accuracy per round for one budget, and accuracy against labels per client over a sweep.
import { lineChartSvg } from '../line-chart';
import type { MethodName } from './domains-config';
import type { DomainsReport } from './report';

// fedavg-secagg is drawn after fedavg: where the two agree, its line covers fedavg's.
const CURVE_METHODS: readonly MethodName[] = ['fedavg', 'fedavg-secagg', 'fedavgm', 'fedadam', 'personalized', 'leave-one-out'];
const LEVEL_METHODS: readonly MethodName[] = ['local', 'centralized'];
export const SWEEP_METHODS: readonly MethodName[] = ['local', 'centralized', 'fedavg', 'fedavg-secagg', 'fedavgm', 'fedadam'];

/** Mean test accuracy per round of the federated methods; local and centralized as horizontal lines. */
export function accuracySvg(report: DomainsReport): string {
  const series = CURVE_METHODS.flatMap((method) => {
    const result = report.methods[method];
    return result && result.curve.length > 0 ? [{ name: method, points: result.curve.map((p) => ({ x: p.round, y: p.mean })) }] : [];
  });
  const references = LEVEL_METHODS.flatMap((method) => {
    const result = report.methods[method];
    return result ? [{ name: `${method} (${result.mean.toFixed(3)})`, y: result.mean }] : [];
  });
  return lineChartSvg({
    title: `Mean ${report.evaluatedOn} accuracy over ${report.domains.length} domains, ${report.labelsPerClient} labels per client`,
    xLabel: 'round',
    yLabel: `mean ${report.evaluatedOn} accuracy`,
    series,
    references,
  });
}

/** Mean accuracy against the labelled budget per client, one line per method. */
export function sweepSvg(reports: readonly DomainsReport[]): string {
  const sorted = [...reports].sort((a, b) => a.labelsPerClient - b.labelsPerClient);
  const series = SWEEP_METHODS.flatMap((method) => {
    const points = sorted.flatMap((report) => {
      const result = report.methods[method];
      return result ? [{ x: report.labelsPerClient, y: result.mean }] : [];
    });
    return points.length > 0 ? [{ name: method, points }] : [];
  });
  return lineChartSvg({
    title: `Mean ${sorted[0]?.evaluatedOn ?? 'test'} accuracy vs labels per client (${sorted[0]?.domains.length ?? 0} domains)`,
    xLabel: 'labelled training examples per client (log scale)',
    yLabel: 'mean accuracy',
    series,
    xScale: 'log',
    xTicks: sorted.map((report) => report.labelsPerClient),
  });
}
