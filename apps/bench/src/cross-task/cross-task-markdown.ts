// report.md of the cross-task experiment: the table a reader looks for first (budget × init, mean ± sd over
// seeds), the paired differences, the constant-prediction references, then the source run, every seed's numbers
// and where and how it ran.
import { provenanceLines } from '../domains/markdown-report';
import { formatPercentSpread, type Spread } from '../seed-spread';
import type { CrossTaskReport } from './cross-task-report';

/** A share in [0, 1] as a percentage with one decimal; '–' for NaN. */
const pct = (value: number) => (Number.isFinite(value) ? (100 * value).toFixed(1) : '–');

/** mean ± std in percent (the std left out when there is one seed). */
export function spreadText(spread: Spread): string {
  return spread.n > 1 ? formatPercentSpread(spread) : pct(spread.mean);
}

/** A signed difference in points: +1.2 ± 0.4. */
export function differenceText(spread: Spread): string {
  const signed = `${spread.mean >= 0 ? '+' : '−'}${Math.abs(100 * spread.mean).toFixed(1)}`;
  return spread.n > 1 ? `${signed} ± ${pct(spread.std)}` : signed;
}

/** The budget × init table (also pasted into the README's Results section). */
export function crossTaskTable(report: CrossTaskReport): string {
  const header = `| labels per client | init | **accuracy** | macro-F1 | ${report.domains.join(' | ')} |`;
  const rule = `|---:|---|---:|---:|${report.domains.map(() => '---:').join('|')}|`;
  const rows = report.rows.map(
    (row) =>
      `| ${row.labelsPerClient} | ${row.init} | **${spreadText(row.accuracy)}** | ${spreadText(row.macroF1)} | ${report.domains.map((d) => spreadText(row.perDomain[d])).join(' | ')} |`,
  );
  return [header, rule, ...rows].join('\n');
}

/** init-from − scratch per budget, paired by seed. */
export function differenceTable(report: CrossTaskReport): string {
  const rows = report.differences.map(
    (d) =>
      `| ${d.labelsPerClient} | **${differenceText(d.accuracy)}** | ${differenceText(d.macroF1)} | ${d.initFromBetterIn} of ${d.accuracy.n} | ${d.accuracy.mean > 0 ? 'yes' : 'no'} |`,
  );
  return [
    '| labels per client | accuracy, init-from − scratch (points) | macro-F1, init-from − scratch (points) | seeds where init-from is better | init-from beats scratch (mean > 0) |',
    '|---:|---:|---:|---:|---|',
    ...rows,
  ].join('\n');
}

/** The constant predictors on the rating task, one line. */
export function referenceLine(report: CrossTaskReport): string {
  const majority = report.domains.map((d) => `${d} ${pct(report.reference.majorityClass[d].accuracy)} (“${report.reference.majorityClass[d].label}”)`).join(', ');
  return (
    `Reference on the rating task: chance ${pct(report.reference.chance)} %; majority class (each evaluation set's most frequent rating, ` +
    `the best a constant prediction scores) ${majority}, mean ${pct(report.reference.majorityClassMean)} %.`
  );
}

/** Rounds 1, 5, 10, 15 and the last, those the run had. */
export function curveRounds(rounds: number): number[] {
  return [...new Set([1, 5, 10, 15, rounds])].filter((round) => round <= rounds).sort((a, b) => a - b);
}

/** Each row's mean accuracy (over domains and seeds) after a few rounds: where it peaks, not only where it ends. */
export function curveTable(report: CrossTaskReport): string {
  const rounds = curveRounds(report.rounds);
  const rows = report.rows.map((row) => `| ${row.labelsPerClient} | ${row.init} | ${rounds.map((round) => pct(row.curve[round - 1] ?? NaN)).join(' | ')} |`);
  return [`| labels per client | init | ${rounds.map((round) => `round ${round}`).join(' | ')} |`, `|---:|---|${rounds.map(() => '---:').join('|')}|`, ...rows].join('\n');
}

function perSeedTable(report: CrossTaskReport): string {
  const columns = report.target.labelsPerClient.flatMap((n) => [`${n} init-from`, `${n} scratch`]);
  const rows = report.perSeed.map((runs) => {
    const cells = report.target.labelsPerClient.flatMap((n) => [pct(runs.targets[String(n)]['init-from'].accuracy), pct(runs.targets[String(n)].scratch.accuracy)]);
    return `| ${runs.seed} | ${pct(runs.source.accuracy)} | ${cells.join(' | ')} |`;
  });
  return [`| seed | source (sentiment) | ${columns.join(' | ')} |`, `|---:|---:|${columns.map(() => '---:').join('|')}|`, ...rows].join('\n');
}

/** The whole report.md. */
export function crossTaskMarkdown(report: CrossTaskReport): string {
  const h = report.hyperparameters;
  const evaluated = report.evaluatedOn === 'test' ? 'Test' : 'Validation';
  const lines = [
    '# Cross-task transfer: sentiment → star rating',
    '',
    `Per seed, a federation of the ${report.domains.length} organisations (one client per domain, FedAvg, ${report.rounds} rounds) learns ` +
      `binary sentiment (${report.source.labels.join('/')}) from ${report.source.labelsPerClient} labels per client. Then, per budget, two federations of ` +
      `the same organisations learn the ${report.target.labels.length}-way star rating (labels ${report.target.labels.join(', ')}; training draws ` +
      'stratified by rating): one started with `--init-from` the sentiment run (its adapter kept, the head re-initialised for the new labels), ' +
      'one from scratch, with the same seed, draw and training. ' +
      `${evaluated} accuracy and macro-F1 (%) of the final global model, as the clients evaluate it; mean ± sample standard deviation over seeds ${report.seeds.join(', ')}; ` +
      'the domain columns are accuracy.',
    '',
    crossTaskTable(report),
    '',
    'init-from − scratch, paired by seed (mean ± sample sd of the per-seed differences):',
    '',
    differenceTable(report),
    '',
    referenceLine(report),
    '',
    `Source federation (sentiment, ${report.source.labelsPerClient} labels per client): accuracy ${spreadText(report.source.accuracy)} %, ` +
      `macro-F1 ${spreadText(report.source.macroF1)} % (${report.domains.map((d) => `${d} ${spreadText(report.source.perDomain[d])}`).join(', ')}).`,
    '',
    `## Accuracy after round r (mean over domains and seeds, %; the table above is round ${report.rounds})`,
    '',
    curveTable(report),
    '',
    '## Every seed (mean accuracy over domains, %)',
    '',
    perSeedTable(report),
    '',
    `- Evaluated on ${report.domains.map((d) => `${d} ${report.evaluationExamples[d]}`).join(', ')} examples.`,
    `- Model: adapter width ${h.adapterWidth}, ${h.head} head${h.head === 'mlp' ? ` (${h.headHidden} hidden)` : ''}; ${h.optimizer} lr ${h.learningRate}, batch ${h.batchSize}, ${h.localEpochs} local epoch(s) per round.`,
    ...provenanceLines(report),
    '',
  ];
  return lines.join('\n');
}
