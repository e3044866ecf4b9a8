import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { useTestSandbox } from '@fedtl/util/testing';
import { labelSetOf, readDomains, withBudget } from '../domains/domain-data';
import { writeFixtureDomains } from '../testing/fixture-domains';
import { asRatingTask, constantBaselines, ratingLabel, readRatings, withRatingLabels } from './rating-data';

describe('rating task', () => {
  const sandbox = useTestSandbox();

  it('writes a star rating as its integer digits and refuses anything else, naming where', () => {
    expect(ratingLabel(5.0, 'f:1')).toBe('5');
    expect(ratingLabel(1, 'f:1')).toBe('1');
    expect(() => ratingLabel(4.5, 'f:3')).toThrow('f:3: expected a field "rating" holding an integer star rating 1..5, got 4.5');
    expect(() => ratingLabel(undefined, 'f:3')).toThrow(/got undefined/);
    expect(() => ratingLabel('5', 'f:3')).toThrow(/got "5"/);
  });

  it('reads ratings by id and refuses a row without a valid one, naming file and line', async () => {
    const file = join(sandbox.dir, 'a.jsonl');
    await writeFile(file, '{"id":"r1","text":"x","label":"positive","rating":4.0}\n\n{"id":7,"text":"y","label":"negative","rating":1.0}\n');
    expect([...(await readRatings(file))]).toEqual([['r1', '4'], ['7', '1']]);
    await writeFile(file, '{"id":"r1","text":"x","label":"positive","rating":4.0}\n{"id":"r2","text":"y","label":"negative"}\n');
    await expect(readRatings(file)).rejects.toThrow(`${file}:2: expected a field "rating"`);
  });

  it('relabels examples by rating, keeping id and text, and names a review without one', () => {
    const ratings = new Map([['a', '5'], ['b', '1']]);
    const examples = [{ id: 'a', text: 'great', label: 'positive' }, { id: 'b', text: 'awful', label: 'negative' }];
    expect(withRatingLabels(examples, ratings, 'books')).toEqual([{ id: 'a', text: 'great', label: '5' }, { id: 'b', text: 'awful', label: '1' }]);
    expect(() => withRatingLabels([{ id: 'c', text: 'meh', label: 'negative' }], ratings, 'books')).toThrow('books: expected a rating for review c');
  });

  it('relabels the training pools and test sets, and a budget is then drawn stratified by rating', async () => {
    await writeFixtureDomains(sandbox.dir);
    const sentiment = await readDomains({ dataDir: sandbox.dir, domains: [], seed: 7 });
    const rating = await asRatingTask(sentiment, sandbox.dir);
    expect(labelSetOf(rating)).toEqual(['1', '2', '4', '5']);
    expect(rating.map((d) => d.trainPool.map((e) => e.text))).toEqual(sentiment.map((d) => d.trainPool.map((e) => e.text)));
    // Ratings refine sentiment: 4 and 5 are positive, 1 and 2 negative.
    for (const [i, domain] of rating.entries()) {
      domain.evaluation.forEach((example, j) => expect(['4', '5'].includes(example.label)).toBe(sentiment[i].evaluation[j].label === 'positive'));
    }
    // 12 training reviews a domain, 3 per rating: 8 labels draw 2 of each.
    for (const domain of withBudget(rating, 8, 3)) {
      const counts = Object.fromEntries(['1', '2', '4', '5'].map((label) => [label, domain.train.filter((e) => e.label === label).length]));
      expect(counts).toEqual({ '1': 2, '2': 2, '4': 2, '5': 2 });
    }
  });

  it('gives chance and each evaluation set’s majority-class accuracy (ties to the label sorting first)', () => {
    const texts = (labels: string[]) => labels.map((label, i) => ({ id: String(i), text: String(i), label }));
    const baselines = constantBaselines(
      [
        { name: 'a', trainPool: [], evaluation: texts(['5', '5', '1', '2']) },
        { name: 'b', trainPool: [], evaluation: texts(['4', '1', '4', '1']) },
      ],
      ['1', '2', '4', '5'],
    );
    expect(baselines).toEqual({ chance: 0.25, majorityClass: { a: { label: '5', accuracy: 0.5 }, b: { label: '1', accuracy: 0.5 } } });
  });
});
