// Precomputed-feature files for federation tests: two labels separated along one shared direction, each
// client shifted by its own offset (non-IID), written in the client's `--features` JSON format.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { seededRandom } from '../random';

export interface SyntheticFeatureOptions {
  clients: number;
  dim: number;
  /** Training rows per client: one number for all, or one per client (unequal counts test the weighting). */
  trainPerClient: number | number[];
  testPerClient: number;
  labels?: string[];
  seed?: number;
}

function gaussian(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** Writes `client-<k>.features.json` files into `dir` and returns their paths. */
export async function writeSyntheticFeatureFiles(dir: string, options: SyntheticFeatureOptions): Promise<string[]> {
  const { clients, dim, trainPerClient, testPerClient, labels = ['a', 'b'], seed = 1 } = options;
  const random = seededRandom(seed);
  const means = labels.map(() => Array.from({ length: dim }, () => 1.5 * gaussian(random)));
  const paths: string[] = [];
  for (let c = 0; c < clients; c++) {
    const shift = Array.from({ length: dim }, () => 0.5 * gaussian(random));
    const sample = (n: number) => {
      const features: number[][] = [];
      const rowLabels: string[] = [];
      for (let i = 0; i < n; i++) {
        const k = i % labels.length;
        features.push(means[k].map((m, j) => m + shift[j] + gaussian(random)));
        rowLabels.push(labels[k]);
      }
      return { features, labels: rowLabels };
    };
    const path = join(dir, `client-${c + 1}.features.json`);
    const trainRows = Array.isArray(trainPerClient) ? trainPerClient[c] : trainPerClient;
    await writeFile(path, JSON.stringify({ dim, train: sample(trainRows), test: sample(testPerClient) }));
    paths.push(path);
  }
  return paths;
}
