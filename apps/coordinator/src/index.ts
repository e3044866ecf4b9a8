// What the `fedtl` command (apps/cli) takes from the coordinator app: its subcommands' specs, nothing heavy.
export { COORDINATOR_COMMAND } from './coordinator-command';
export { DEMO_COMMAND } from './demo-command';
export { TOKEN_COMMANDS } from './credentials/token-command';
