import type { EvaluateReport } from '@fedtl/protocol';
import { checkEvaluateReport, checkUpdateMetrics } from './report-checks';

const context = { labels: ['a', 'b'], declaredTestExamples: 20 };
const honest: EvaluateReport = {
  runId: 'run',
  round: 1,
  clientId: 'c',
  numExamples: 20,
  metrics: { accuracy: 0.75, macroF1: 0.7, loss: 0.4, localOnlyAccuracy: 0.6, personalizedAccuracy: 0.8, personalizedMacroF1: 0.79 },
  perLabel: { a: { support: 12, correct: 9 }, b: { support: 8, correct: 6 } },
};
const refusal = (message: string) => expect.objectContaining({ code: 'FEDTL_ERR_BAD_REPORT', message });

describe('evaluation report checks', () => {
  it('accepts what the client sends, and NaN metrics of a report over zero examples', () => {
    expect(() => checkEvaluateReport(honest, context)).not.toThrow();
    expect(() => checkEvaluateReport({ ...honest, numExamples: 0, metrics: { accuracy: NaN, macroF1: NaN, loss: NaN }, perLabel: {} }, context)).not.toThrow();
  });

  it.each([
    ['accuracy 7.5', { metrics: { accuracy: 7.5 } }, 'evaluation report: metrics.accuracy: expected a number in [0, 1], got 7.5'],
    ['macro-F1 −3', { metrics: { macroF1: -3 } }, 'evaluation report: metrics.macroF1: expected a number in [0, 1], got -3'],
    ['a personalised accuracy above 1', { metrics: { personalizedAccuracy: 1.01 } }, 'metrics.personalizedAccuracy: expected a number in [0, 1], got 1.01'],
    ['a loss of 1e300', { metrics: { loss: 1e300 } }, 'metrics.loss: expected a number in [0, 1000000], got 1e+300'],
    ['an infinite loss', { metrics: { loss: Infinity } }, 'metrics.loss: expected a number in [0, 1000000], got Infinity'],
    ['a negative loss', { metrics: { loss: -1 } }, 'metrics.loss: expected a number in [0, 1000000], got -1'],
    ['NaN over examples', { metrics: { accuracy: NaN } }, 'metrics.accuracy: expected a number in [0, 1], got NaN'],
    ['an unknown metric', { metrics: { 'metric-7999': 0.5 } }, 'metric "metric-7999": expected one of accuracy, macroF1, loss, localOnlyAccuracy, personalizedAccuracy, personalizedMacroF1, got "metric-7999"'],
    ['1e6 examples from a client that declared 20', { numExamples: 1e6 }, 'numExamples: expected an integer in [0, 20] (test examples declared at join), got 1000000'],
    ['a fractional count', { numExamples: 2.5 }, 'numExamples: expected an integer in [0, 20]'],
    ['an unknown label', { perLabel: { ...honest.perLabel, 'label-7999': { support: 0, correct: 0 } } }, 'perLabel: expected labels among ["a","b"], got "label-7999"'],
    ['more correct than support', { perLabel: { a: { support: 12, correct: 13 }, b: { support: 8, correct: 6 } } }, 'perLabel["a"].correct: expected an integer in [0, 12] (its support), got 13'],
    ['a negative support', { perLabel: { a: { support: -1, correct: 0 }, b: { support: 8, correct: 6 } } }, 'perLabel["a"].support: expected an integer >= 0, got -1'],
    ['supports not summing to numExamples', { perLabel: { a: { support: 2, correct: 1 }, b: { support: 8, correct: 6 } } }, 'perLabel supports: expected a sum equal to numExamples (20), got 10'],
  ] as const)('refuses %s with FEDTL_ERR_BAD_REPORT naming the field, the value and the range', (_, change, message) => {
    const report = { ...honest, ...change, metrics: { ...honest.metrics, ...('metrics' in change ? change.metrics : {}) } } as EvaluateReport;
    expect(() => checkEvaluateReport(report, context)).toThrow(refusal(expect.stringContaining(message) as unknown as string));
  });
});

describe('update metric checks', () => {
  it('accepts local training’s loss, accuracy and seconds', () => {
    expect(() => checkUpdateMetrics({ loss: 0.3, accuracy: 0.9, seconds: 1.5 })).not.toThrow();
    expect(() => checkUpdateMetrics({})).not.toThrow();
  });

  it.each([
    [{ accuracy: 7.5 }, 'update: metrics.accuracy: expected a number in [0, 1], got 7.5'],
    [{ loss: NaN }, 'update: metrics.loss: expected a number in [0, 1000000], got NaN'],
    [{ seconds: -2 }, 'update: metrics.seconds: expected a number in [0, 10000000], got -2'],
    [{ macroF1: 0.5 }, 'update: metric "macroF1": expected one of loss, accuracy, seconds, got "macroF1"'],
  ])('refuses %j with FEDTL_ERR_BAD_REPORT', (metrics, message) => {
    expect(() => checkUpdateMetrics(metrics)).toThrow(refusal(message));
  });
});
