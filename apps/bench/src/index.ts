// What the `fedtl` command (apps/cli) takes from the bench app: the `fedtl bench` command group, nothing heavy.
export { BENCH_COMMANDS } from './bench-commands';
