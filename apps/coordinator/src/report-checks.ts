// What a client may report, checked before it is trusted: the metrics of an evaluation report and of an
// update are aggregated into the run's record and shown on /metrics, so each must be a metric the client
// software actually sends, inside its range, and counted over examples the client declared at Join.
import { FedtlError } from '@fedtl/util';
import type { EvaluateReport, Metrics } from '@fedtl/protocol';

interface MetricRange {
  min: number;
  max: number;
}

const FRACTION: MetricRange = { min: 0, max: 1 };
// Mean cross-entropy over 1e6 nats means the model is unusable anyway; the cap keeps a weighted sum of losses
// (weight up to --max-declared-examples) far from overflow.
const LOSS: MetricRange = { min: 0, max: 1e6 };
// Wall seconds of one round's local training: about 115 days.
const SECONDS: MetricRange = { min: 0, max: 1e7 };

/** What the client's Learner puts in an evaluation report (apps/client/src/learner.ts, model evaluation.ts). */
export const EVALUATION_METRICS: Readonly<Record<string, MetricRange>> = {
  accuracy: FRACTION,
  macroF1: FRACTION,
  loss: LOSS,
  localOnlyAccuracy: FRACTION,
  personalizedAccuracy: FRACTION,
  personalizedMacroF1: FRACTION,
};

/** What a client puts in an update's metrics (local training's loss and accuracy, and its wall seconds). */
export const TRAINING_METRICS: Readonly<Record<string, MetricRange>> = {
  loss: LOSS,
  accuracy: FRACTION,
  seconds: SECONDS,
};

function badReport(what: string, field: string, expected: string, got: unknown): FedtlError {
  const shown = typeof got === 'number' ? String(got) : JSON.stringify(got);
  return new FedtlError('FEDTL_ERR_BAD_REPORT', `${what}: ${field}: expected ${expected}, got ${shown}`, { field });
}

/**
 * Every metric must be one of `known` and inside its range. `undefinedAllowed` lets NaN through (the metrics of
 * a report over zero examples are undefined, and carry no weight). Throws FEDTL_ERR_BAD_REPORT naming the metric.
 */
function checkMetrics(what: string, metrics: Metrics, known: Readonly<Record<string, MetricRange>>, undefinedAllowed: boolean): void {
  for (const [name, value] of Object.entries(metrics)) {
    const range = Object.prototype.hasOwnProperty.call(known, name) ? known[name] : undefined;
    if (!range) throw badReport(what, `metric "${name.slice(0, 80)}"`, `one of ${Object.keys(known).join(', ')}`, name.slice(0, 80));
    if (undefinedAllowed && Number.isNaN(value)) continue;
    if (!(value >= range.min && value <= range.max)) throw badReport(what, `metrics.${name}`, `a number in [${range.min}, ${range.max}]`, value);
  }
}

/** Checks an update's training metrics (TRAINING_METRICS); throws FEDTL_ERR_BAD_REPORT naming the bad one. */
export function checkUpdateMetrics(metrics: Metrics): void {
  checkMetrics('update', metrics, TRAINING_METRICS, false);
}

/** What the coordinator knows when a report arrives. */
export interface ReportContext {
  /** The run's label set. */
  labels: readonly string[];
  /** The test examples the sender declared at Join. */
  declaredTestExamples: number;
}

function isCount(value: number): boolean {
  return Number.isInteger(value) && value >= 0;
}

/**
 * Checks an evaluation report against what its sender declared: numExamples an integer in [0, declared test
 * examples]; known metrics in range (EVALUATION_METRICS); per-label names among the run's labels, support and
 * correct integers with correct ≤ support; supports summing to numExamples. Throws FEDTL_ERR_BAD_REPORT naming
 * the field, the value that came and what was allowed.
 */
export function checkEvaluateReport(report: EvaluateReport, context: ReportContext): void {
  const what = 'evaluation report';
  const declared = context.declaredTestExamples;
  if (!isCount(report.numExamples) || report.numExamples > declared) {
    throw badReport(what, 'numExamples', `an integer in [0, ${declared}] (test examples declared at join)`, report.numExamples);
  }
  checkMetrics(what, report.metrics, EVALUATION_METRICS, report.numExamples === 0);
  let support = 0;
  for (const [label, counts] of Object.entries(report.perLabel)) {
    if (!context.labels.includes(label)) throw badReport(what, 'perLabel', `labels among ${JSON.stringify(context.labels)}`, label.slice(0, 80));
    if (!isCount(counts.support)) throw badReport(what, `perLabel["${label}"].support`, 'an integer >= 0', counts.support);
    if (!isCount(counts.correct) || counts.correct > counts.support) {
      throw badReport(what, `perLabel["${label}"].correct`, `an integer in [0, ${counts.support}] (its support)`, counts.correct);
    }
    support += counts.support;
  }
  if (support !== report.numExamples) {
    throw badReport(what, 'perLabel supports', `a sum equal to numExamples (${report.numExamples})`, support);
  }
}
