// The secure-aggregation benchmark's flags: `npm run bench -- secagg --clients 4,16,64 --dropouts 0,0.1,0.3 …`.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseInteger, parseIntegerList } from '@fedtl/util';

export interface SecAggBenchOptions {
  clients: number[];
  /** Fractions of the clients that drop out of every round (0 ≤ f < 0.5). */
  dropouts: number[];
  rounds: number;
  /** Feature dimension (the adapter's input) and adapter width: the model's size. */
  dim: number;
  adapterWidth: number;
  /** Simulated training time per client and round, ms. */
  trainDelayMs: number;
  seed: number;
  outDir: string;
}

export const SECAGG_BENCH_USAGE = `Usage: npm run bench -- secagg [options]

  Time per round and bytes per client, secure aggregation (Bonawitz et al. 2017) vs plain FedAvg, against the
  real coordinator process, N simulated clients over real sockets (real protocol, simulated training).

  --clients N[,N...]     clients per configuration (default 4,16,64)
  --dropouts F[,F...]    fractions of clients dropping out of each round (default 0,0.1,0.3)
  --rounds R             rounds per configuration (default 2)
  --dim D                feature dimension, the adapter's input (default 512, use-lite's)
  --adapter-width W      adapter width (default 64: ~66k floats with the linear head)
  --train-delay-ms MS    simulated training time (default 200)
  --seed N               seed of the simulated deltas (default 1)
  --out-dir DIR          where report.json and report.md go (default out/bench-secagg)
  --quick                4 clients, dropouts 0 and 0.3, 1 round (a smoke test)
`;

const FLAGS = {
  clients: { type: 'string' },
  dropouts: { type: 'string' },
  rounds: { type: 'string' },
  dim: { type: 'string' },
  'adapter-width': { type: 'string' },
  'train-delay-ms': { type: 'string' },
  seed: { type: 'string' },
  'out-dir': { type: 'string' },
  quick: { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

function parseFractions(name: string, value: string): number[] {
  return value.split(',').map((part) => {
    const f = Number(part.trim());
    if (part.trim() === '' || !Number.isFinite(f) || f < 0 || f >= 0.5) throw new RangeError(`${name}: expected fractions in [0, 0.5), got "${part}"`);
    return f;
  });
}

export function parseSecAggBenchOptions(argv: string[]): SecAggBenchOptions | 'help' {
  const { values: v } = parseArgs({ args: argv, options: FLAGS, strict: true, allowPositionals: false });
  if (v.help) return 'help';
  const quick = v.quick === true;
  const clients = parseIntegerList('--clients', v.clients ?? (quick ? '4' : '4,16,64'), 2);
  return {
    clients: [...new Set(clients)].sort((a, b) => a - b),
    dropouts: [...new Set(parseFractions('--dropouts', v.dropouts ?? (quick ? '0,0.3' : '0,0.1,0.3')))].sort((a, b) => a - b),
    rounds: parseInteger('--rounds', v.rounds ?? (quick ? '1' : '2'), 1),
    dim: parseInteger('--dim', v.dim ?? '512', 1),
    adapterWidth: parseInteger('--adapter-width', v['adapter-width'] ?? '64', 1),
    trainDelayMs: parseInteger('--train-delay-ms', v['train-delay-ms'] ?? '200', 0),
    seed: parseInteger('--seed', v.seed ?? '1', 1),
    outDir: resolve(v['out-dir'] ?? 'out/bench-secagg'),
  };
}

/** Clients dropping out of each round: round(f·N), at least one when f > 0, always leaving a majority. */
export function dropoutCount(clients: number, fraction: number): number {
  if (fraction <= 0) return 0;
  return Math.min(Math.max(1, Math.round(fraction * clients)), Math.ceil(clients / 2) - 1);
}
