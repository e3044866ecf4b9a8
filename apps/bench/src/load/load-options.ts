// The load benchmark's flags, parsed and validated once: `npm run bench -- load --clients 10,100,500 …`.
import { parseArgs } from 'node:util';
import { parseInteger, parseIntegerList } from '@fedtl/util';

export interface LoadOptions {
  /** Simulated client counts, one scenario each per model size. */
  clients: number[];
  rounds: number;
  /** Width of the precomputed feature vectors (the adapter's input). */
  dim: number;
  /** The model whose memory and throughput are reported. */
  adapterWidth: number;
  /** A second, larger adapter run side by side, so memory growth with model size is measured, not assumed. */
  compareAdapterWidth: number;
  seed: number;
  /** Simulated clients connect in batches of this many, so the coordinator is not hit by N handshakes at once. */
  connectBatch: number;
  /** Where the JSON result goes; stdout gets the markdown either way. */
  out?: string;
}

export const LOAD_USAGE = `Usage: npm run bench -- load [options]

  --clients N[,N...]           simulated clients per scenario (default 10,100,500)
  --rounds R                   rounds per scenario (default 3)
  --dim D                      feature dimension, the adapter's input (default 256)
  --adapter-width W            adapter width of the measured model (default 32)
  --compare-adapter-width W2   a larger adapter run side by side for memory scaling (default 256)
  --connect-batch K            clients connecting at once (default 50)
  --seed N                     seed of the simulated deltas (default 1)
  --out FILE                   also write the results as JSON
`;

const FLAGS = {
  clients: { type: 'string' },
  rounds: { type: 'string' },
  dim: { type: 'string' },
  'adapter-width': { type: 'string' },
  'compare-adapter-width': { type: 'string' },
  'connect-batch': { type: 'string' },
  seed: { type: 'string' },
  out: { type: 'string' },
  help: { type: 'boolean' },
} as const;

const positiveInteger = (name: string, value: string): number => parseInteger(name, value, 1);

export function parseLoadOptions(argv: string[]): LoadOptions | 'help' {
  const { values } = parseArgs({ args: argv, options: FLAGS, strict: true, allowPositionals: false });
  if (values.help) return 'help';
  const clients = parseIntegerList('--clients', values.clients ?? '10,100,500', 1);
  const options: LoadOptions = {
    clients: [...new Set(clients)].sort((a, b) => a - b),
    rounds: positiveInteger('--rounds', values.rounds ?? '3'),
    dim: positiveInteger('--dim', values.dim ?? '256'),
    adapterWidth: positiveInteger('--adapter-width', values['adapter-width'] ?? '32'),
    compareAdapterWidth: positiveInteger('--compare-adapter-width', values['compare-adapter-width'] ?? '256'),
    seed: positiveInteger('--seed', values.seed ?? '1'),
    connectBatch: positiveInteger('--connect-batch', values['connect-batch'] ?? '50'),
    out: values.out,
  };
  if (options.compareAdapterWidth <= options.adapterWidth) {
    throw new RangeError(`--compare-adapter-width: expected more than --adapter-width (${options.adapterWidth}), got ${options.compareAdapterWidth}`);
  }
  return options;
}
