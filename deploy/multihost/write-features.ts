// Writes precomputed synthetic feature files for the multi-host federation, one per client host:
//   node --import tsx deploy/multihost/write-features.ts DIR CLIENTS DIM TRAIN_ROWS
// Precomputed features keep the test about the network, not about embedding text on two cores.
import { writeSyntheticFeatureFiles } from '@fedtl/util/testing';

async function main(): Promise<void> {
  const [dir, clients, dim, trainRows] = process.argv.slice(2);
  if (!dir || !clients || !dim || !trainRows) throw new Error('usage: write-features.ts DIR CLIENTS DIM TRAIN_ROWS');
  const paths = await writeSyntheticFeatureFiles(dir, { clients: Number(clients), dim: Number(dim), trainPerClient: Number(trainRows), testPerClient: 100, seed: 77 });
  process.stdout.write(paths.join('\n') + '\n');
}

main().catch((err: Error) => {
  process.stderr.write(`write-features: ${err.message}\n`);
  process.exit(1);
});
