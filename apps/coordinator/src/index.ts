// What the `fedtl` command (apps/cli) takes from the coordinator app: its subcommands' specs, nothing heavy.
export { COORDINATOR_COMMAND } from './coordinator-command';
