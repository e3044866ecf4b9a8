// Tiny synthetic review domains for the bench's tests: short positive and negative texts about a domain's
// products, written as DOMAIN.train.jsonl / DOMAIN.test.jsonl like the shared corpus, with its star rating field
// (positive reviews 5 and 4, negative ones 1 and 2, alternating).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const POSITIVE = ['I love this {item}, it works perfectly', 'Great {item}, highly recommended', 'Excellent {item}, worth every penny', 'The best {item} I have owned', 'Wonderful {item}, very happy with it', 'Superb {item}, would buy again'];
const NEGATIVE = ['This {item} broke after a week', 'Terrible {item}, a waste of money', 'Awful {item}, do not buy it', 'The worst {item} I have owned', 'Disappointing {item}, returned it', 'Poor {item}, it stopped working'];

export const FIXTURE_ITEMS: Record<string, string[]> = {
  books: ['novel', 'biography', 'cookbook'],
  kitchen: ['blender', 'kettle', 'toaster'],
};

/** A third domain, for tests that need more than two clients (a robust rule against one attacker). */
export const THIRD_FIXTURE_DOMAIN: Record<string, string[]> = { electronics: ['charger', 'headset', 'speaker'] };

/** Writes `train` and `test` examples per domain of `domains` (half positive; ratings 5, 4 and 1, 2 in turn) into `dir`. */
export async function writeFixtureDomains(dir: string, train = 12, test = 6, domains = FIXTURE_ITEMS): Promise<void> {
  for (const [domain, items] of Object.entries(domains)) {
    const examples = (count: number, offset: number) =>
      Array.from({ length: count }, (_, i) => {
        const positive = i % 2 === 0;
        const templates = positive ? POSITIVE : NEGATIVE;
        const k = offset + Math.floor(i / 2);
        const text = templates[k % templates.length].replace('{item}', items[k % items.length]) + (k >= templates.length ? ` (${domain} ${k})` : '');
        const rating = positive ? (k % 2 === 0 ? 5 : 4) : k % 2 === 0 ? 1 : 2;
        return JSON.stringify({ id: `${domain}-${offset}-${i}`, text, label: positive ? 'positive' : 'negative', rating });
      }).join('\n') + '\n';
    await writeFile(join(dir, `${domain}.train.jsonl`), examples(train, 0));
    await writeFile(join(dir, `${domain}.test.jsonl`), examples(test, 100));
  }
}
