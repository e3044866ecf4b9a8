import { useTestSandbox } from '@fedtl/util/testing';
import { writeFixtureDomains } from '../testing/fixture-domains';
import { discoverDomains, labelSetOf, labelledFeatures, readDomains, textsToEmbed, withBudget } from './domain-data';

describe('domain data', () => {
  const sandbox = useTestSandbox();
  beforeEach(() => writeFixtureDomains(sandbox.dir));

  it('finds the domains that have both files', () => {
    expect(discoverDomains(sandbox.dir)).toEqual(['books', 'kitchen']);
  });

  it('scores on the test files, or with a validation fraction on a slice held out of training', async () => {
    const onTest = await readDomains({ dataDir: sandbox.dir, domains: [], seed: 1 });
    expect(onTest.map((d) => [d.name, d.trainPool.length, d.evaluation.length])).toEqual([['books', 12, 6], ['kitchen', 12, 6]]);
    const onValidation = await readDomains({ dataDir: sandbox.dir, domains: ['kitchen'], seed: 1, validationFraction: 0.5 });
    const [kitchen] = onValidation;
    expect([kitchen.trainPool.length, kitchen.evaluation.length]).toEqual([6, 6]);
    const testIds = new Set(onTest[1].evaluation.map((e) => e.id));
    const trainIds = new Set(kitchen.trainPool.map((e) => e.id));
    expect(kitchen.evaluation.every((e) => !testIds.has(e.id) && !trainIds.has(e.id))).toBe(true);
  });

  it('refuses data of fewer than two labels when the label set is taken, before anything is embedded', () => {
    const positive = (id: string) => ({ id, text: id, label: 'positive' });
    expect(() => labelSetOf([{ name: 'books', trainPool: [positive('a')], evaluation: [positive('b')] }])).toThrow(
      '--data-dir: expected domain files of at least two distinct labels (the classes the federation learns), got ["positive"]',
    );
  });

  it('refuses unknown domains', async () => {
    await expect(readDomains({ dataDir: sandbox.dir, domains: ['dvd'], seed: 1 })).rejects.toThrow(/books, kitchen/);
  });

  it('draws the same stratified budget for a seed, and encodes labels in the sorted label set', async () => {
    const domains = await readDomains({ dataDir: sandbox.dir, domains: [], seed: 1 });
    const a = withBudget(domains, 4, 3);
    expect(a.map((d) => d.train.length)).toEqual([4, 4]);
    expect(a[0].train.filter((e) => e.label === 'positive')).toHaveLength(2);
    expect(withBudget(domains, 4, 3)).toEqual(a);
    const labels = labelSetOf(domains);
    expect(labels).toEqual(['negative', 'positive']);
    const texts = textsToEmbed(a);
    expect(texts).toHaveLength(new Set([...a[0].train, ...a[0].evaluation, ...a[1].train, ...a[1].evaluation].map((e) => e.text)).size);
    const data = labelledFeatures(a[0].train, (text) => Float32Array.of(texts.indexOf(text), 1), labels);
    expect(data.n).toBe(4);
    expect(data.features).toHaveLength(8);
    expect([...data.labels]).toEqual(a[0].train.map((e) => labels.indexOf(e.label)));
  });
});
