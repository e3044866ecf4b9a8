// Where a run's reports go: one budget writes report.json, report.md and accuracy.svg into OUT; a sweep writes
// those into OUT/labels-<N>/ per budget, plus sweep.json, sweep.md and sweep.svg (accuracy vs budget) into OUT.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { accuracyTable, markdownReport, secureAggregationLines } from './markdown-report';
import { SWEEP_METHODS, accuracySvg, sweepSvg } from './plots';
import type { DomainsReport } from './report';

export const SWEEP_FILES = { json: 'sweep.json', markdown: 'sweep.md', svg: 'sweep.svg' } as const;

/** The folder of one budget's report. */
export function budgetDir(out: string, labelsPerClient: number, sweep: boolean): string {
  return sweep ? join(out, `labels-${labelsPerClient}`) : out;
}

export async function writeBudgetReport(dir: string, report: DomainsReport): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'report.json'), JSON.stringify(report, null, 2) + '\n');
  await writeFile(join(dir, 'report.md'), markdownReport(report));
  await writeFile(join(dir, 'accuracy.svg'), accuracySvg(report));
}

export async function writeSweepSummary(out: string, reports: readonly DomainsReport[]): Promise<void> {
  const sorted = [...reports].sort((a, b) => a.labelsPerClient - b.labelsPerClient);
  const summary = sorted.map((report) => ({
    labelsPerClient: report.labelsPerClient,
    report: join(`labels-${report.labelsPerClient}`, 'report.json'),
    mean: Object.fromEntries(Object.entries(report.methods).map(([method, result]) => [method, result?.mean])),
  }));
  await writeFile(join(out, SWEEP_FILES.json), JSON.stringify({ suite: 'domains-sweep', budgets: summary }, null, 2) + '\n');
  await writeFile(join(out, SWEEP_FILES.svg), sweepSvg(sorted));
  const methods = SWEEP_METHODS.filter((method) => sorted.some((report) => report.methods[method]));
  const lines = [
    '# Cross-domain benchmark: accuracy vs labels per client',
    '',
    `| labels per client | ${methods.join(' | ')} |`,
    `|---:|${methods.map(() => '---:').join('|')}|`,
    ...sorted.map((report) => `| ${report.labelsPerClient} | ${methods.map((m) => (report.methods[m] ? (100 * (report.methods[m]?.mean ?? NaN)).toFixed(1) : '–')).join(' | ')} |`),
    '',
    `![accuracy vs labels per client](${SWEEP_FILES.svg})`,
    '',
    ...sorted.flatMap((report) => {
      const secure = secureAggregationLines(report);
      return [`## ${report.labelsPerClient} labels per client`, '', accuracyTable(report), '', ...(secure.length > 0 ? [...secure, ''] : [])];
    }),
  ];
  await writeFile(join(out, SWEEP_FILES.markdown), lines.join('\n'));
}
