// How long `fedtl <command> --help` takes to answer, the built bundle against the TypeScript sources under tsx
// (how every fedtl command ran before the bundle existed), measured side by side in one run, interleaved so that
// machine load falls on both alike. `--help` loads the command's option declarations and nothing else, so this is
// the start-up cost every invocation pays before its own work.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FedtlError } from '@fedtl/util';
import { describeMachine, machineInfo, type MachineInfo } from '../machine';
import { WORKSPACE_ROOT } from '../workspace';

/** One way of starting fedtl: the arguments after the node executable, before the subcommand. */
export interface StartupVariant {
  name: 'bundle' | 'sources';
  description: string;
  nodeArgs: string[];
}

export const STARTUP_VARIANTS: readonly StartupVariant[] = [
  { name: 'bundle', description: 'node bin/fedtl.js (dist/fedtl, built by esbuild)', nodeArgs: [join(WORKSPACE_ROOT, 'bin', 'fedtl.js')] },
  { name: 'sources', description: 'node --import tsx apps/cli/src/main.ts (TypeScript compiled on the fly)', nodeArgs: ['--import', 'tsx', join(WORKSPACE_ROOT, 'apps', 'cli', 'src', 'main.ts')] },
];

export interface StartupRow {
  command: string;
  variant: StartupVariant['name'];
  runs: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
}

export interface StartupReport {
  machine: MachineInfo;
  rows: StartupRow[];
  /** Per command: the sources' median over the bundle's (how many times faster the bundle starts). */
  speedup: Record<string, number>;
}

/** Milliseconds one `node ARGS… COMMAND --help` takes, wall clock; throws if it does not exit 0. */
function timeOnce(variant: StartupVariant, command: string): number {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, [...variant.nodeArgs, command, '--help'], { cwd: WORKSPACE_ROOT, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new FedtlError('FEDTL_ERR_INTERNAL', `${variant.description} ${command} --help exited ${result.status}: ${result.stderr}`);
  return ms;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Times every variant on every command, `runs` times each, interleaved. */
export function measureStartup(commands: readonly string[], runs: number): StartupReport {
  const rows: StartupRow[] = [];
  const speedup: Record<string, number> = {};
  for (const command of commands) {
    const times = new Map<StartupVariant['name'], number[]>(STARTUP_VARIANTS.map((variant) => [variant.name, []]));
    for (const variant of STARTUP_VARIANTS) timeOnce(variant, command); // warm the file system cache
    for (let run = 0; run < runs; run++) for (const variant of STARTUP_VARIANTS) times.get(variant.name)?.push(timeOnce(variant, command));
    for (const variant of STARTUP_VARIANTS) {
      const ms = times.get(variant.name) ?? [];
      rows.push({ command, variant: variant.name, runs, medianMs: median(ms), minMs: Math.min(...ms), maxMs: Math.max(...ms) });
    }
    const byName = (name: StartupVariant['name']) => rows.find((row) => row.command === command && row.variant === name)?.medianMs ?? NaN;
    speedup[command] = byName('sources') / byName('bundle');
  }
  return { machine: machineInfo(), rows, speedup };
}

export function renderStartupReport(report: StartupReport, commandLine: string): string {
  const lines = [
    '# Start-up time: `fedtl <command> --help`',
    '',
    `Machine: ${describeMachine(report.machine)}. Command: \`${commandLine}\`.`,
    '',
    '| command | how fedtl starts | median ms | min ms | max ms | runs |',
    '|---|---|---:|---:|---:|---:|',
    ...report.rows.map((row) => {
      const variant = STARTUP_VARIANTS.find((v) => v.name === row.variant);
      return `| ${row.command} | ${variant?.description ?? row.variant} | ${row.medianMs.toFixed(0)} | ${row.minMs.toFixed(0)} | ${row.maxMs.toFixed(0)} | ${row.runs} |`;
    }),
    '',
    ...Object.entries(report.speedup).map(([command, ratio]) => `- \`${command} --help\`: the bundle starts ${ratio.toFixed(1)}× faster than the sources under tsx (ratio of medians, measured in this run).`),
    '',
  ];
  return lines.join('\n');
}

/** Runs the suite and writes `<out>/report.json` and `<out>/report.md`; resolves with the exit status. */
export async function runStartupSuite(options: { out: string; runs: number; commands: string[] }, commandLine: string): Promise<number> {
  const report = measureStartup(options.commands, options.runs);
  const out = resolve(options.out);
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'report.json'), JSON.stringify({ command: commandLine, ...report }, null, 2) + '\n');
  const markdown = renderStartupReport(report, commandLine);
  writeFileSync(join(out, 'report.md'), markdown);
  process.stdout.write(markdown);
  return 0;
}
