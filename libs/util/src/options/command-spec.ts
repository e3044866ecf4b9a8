// What each app hands the `fedtl` command for one subcommand: its name, its declared options and how to run it.
// The module that exports a CommandSpec must stay light (declarations only): `run` imports the heavy code, so
// `fedtl <command> --help` and `--print-config` start without TensorFlow.js.
import type { OptionDeclarations } from './declare-option';
import type { LoadedOptions } from './commander-options';

/** What a command may write and read besides its options (the process's streams and environment, or a test's). */
export interface CommandIo {
  env: Record<string, string | undefined>;
  stdout(text: string): void;
  stderr(text: string): void;
}

export interface CommandSpec<D extends OptionDeclarations = OptionDeclarations> {
  /** The subcommand's name: `fedtl NAME`. */
  name: string;
  /** One line for `fedtl --help`. */
  summary: string;
  /** More text for `fedtl NAME --help`, after the options (examples, exit statuses). */
  epilogue?: string;
  options: D;
  /**
   * Runs the command with its merged options (flags > environment > config file > defaults); resolves with the
   * process's exit status. Throws FedtlError FEDTL_ERR_BAD_CONFIG for a configuration it cannot run with.
   */
  run(options: LoadedOptions<D>, io: CommandIo): Promise<number>;
  /**
   * The checks across options that `run` makes before it starts, without starting anything: --print-config runs
   * them, so that the configuration it prints is one the command accepts. Throws FedtlError FEDTL_ERR_BAD_CONFIG.
   */
  validate?(options: LoadedOptions<D>): Promise<void>;
  /** The exit status for an error `run` threw (default: 2 for FEDTL_ERR_BAD_CONFIG, 1 for anything else). */
  exitCodeFor?(err: unknown): number;
}

/** A subcommand that only groups others: `fedtl bench SUITE`, `fedtl token issue|revoke|list`. */
export interface CommandGroupSpec {
  name: string;
  summary: string;
  commands: ReadonlyArray<CommandSpec<any> | CommandGroupSpec>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export function isCommandGroup(spec: CommandSpec<OptionDeclarations> | CommandGroupSpec): spec is CommandGroupSpec {
  return 'commands' in spec;
}
