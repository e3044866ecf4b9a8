// What the `fedtl` command (apps/cli) takes from the client app: its subcommand's spec, nothing heavy.
export { CLIENT_COMMAND } from './client-command';
