import { FedtlError } from '@fedtl/util';
import { checkLabelSubset, encodeLabels, labelsOf, unknownLabels } from './label-set';

const examples = (...labels: string[]) => labels.map((label) => ({ label }));

describe('labelsOf', () => {
  it('returns the unique labels in code-unit order', () => {
    expect(labelsOf(examples('spam', 'ham', 'Spam', 'ham', 'éclair', 'zebra'))).toEqual(['Spam', 'ham', 'spam', 'zebra', 'éclair']);
    expect(labelsOf([])).toEqual([]);
  });
});

describe('encodeLabels', () => {
  it('maps each example to its label index', () => {
    const encoded = encodeLabels(examples('b', 'a', 'c', 'a'), ['a', 'b', 'c']);
    expect(encoded).toBeInstanceOf(Int32Array);
    expect(Array.from(encoded)).toEqual([1, 0, 2, 0]);
  });

  it('names every unknown label and the known set', () => {
    let caught: unknown;
    try {
      encodeLabels(examples('neutral', 'positive', 'mixed', 'neutral'), ['negative', 'positive']);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(FedtlError);
    expect(caught).toMatchObject({
      code: 'FEDTL_ERR_UNKNOWN_LABEL',
      message: 'the examples have 2 unknown labels: "mixed", "neutral" (known labels: "negative", "positive")',
      details: { unknown: ['mixed', 'neutral'], known: ['negative', 'positive'] },
    });
  });

  it('refuses a label list with duplicates', () => {
    expect(() => encodeLabels(examples('a'), ['a', 'a'])).toThrow(RangeError);
  });
});

describe('label subsets at Join', () => {
  it('accepts a client holding some of the federation labels', () => {
    expect(unknownLabels(['positive'], ['negative', 'positive'])).toEqual([]);
    expect(() => checkLabelSubset(['positive'], ['negative', 'positive'])).not.toThrow();
  });

  it('returns and refuses labels the federation does not know', () => {
    expect(unknownLabels(['spam', 'phishing', 'ham', 'phishing'], ['ham', 'spam'])).toEqual(['phishing']);
    expect(() => checkLabelSubset(['spam', 'phishing'], ['ham', 'spam'])).toThrow(
      new FedtlError('FEDTL_ERR_UNKNOWN_LABEL', 'the client has 1 unknown label: "phishing" (known labels: "ham", "spam")'),
    );
  });

  it('keeps the message short for a huge label set', () => {
    const many = Array.from({ length: 25 }, (_, index) => `label-${String(index).padStart(2, '0')}`);
    expect(() => checkLabelSubset(many, [])).toThrow(/"label-19" and 5 more \(known labels: none\)$/);
  });
});

// The label-unicode-normalization case: the coordinator's --labels typed with a precomposed "é" (U+00E9), the
// client's file written with "e" + a combining acute accent (U+0065 U+0301). They print the same.
describe('labels that differ only in Unicode normalisation', () => {
  const typed = 'r\u00e9clamation';
  const decomposed = 're\u0301clamation';

  it('are one label: known at join, encoded to the same index, and listed once', () => {
    expect(typed).not.toBe(decomposed);
    expect(unknownLabels([decomposed, 'question'], [typed, 'question'])).toEqual([]);
    expect(() => checkLabelSubset([decomposed], [typed, 'question'])).not.toThrow();
    expect(Array.from(encodeLabels(examples(decomposed, 'question', typed), [typed, 'question']))).toEqual([0, 1, 0]);
    expect(labelsOf(examples(decomposed, typed))).toEqual([typed]);
  });
});
