// The `fedtl` command: one program, one subcommand per app entry (coordinator, client, demo, bench SUITE, token
// issue|revoke|list). Each subcommand's flags, --help and --print-config come from its option declarations;
// what it does is loaded only when it runs, so --help answers without loading TensorFlow.js.
import { Command, CommanderError } from 'commander';
import { FedtlError } from '@fedtl/util';
import {
  addDeclaredOptions,
  commanderMessage,
  isCommandGroup,
  loadDeclaredOptions,
  type CommandGroupSpec,
  type CommandIo,
  type CommandSpec,
  type OptionDeclarations,
} from '@fedtl/util/options';
import { BENCH_COMMANDS } from '@fedtl/bench';
import { CLIENT_COMMAND } from '@fedtl/client';
import { COORDINATOR_COMMAND, DEMO_COMMAND, TOKEN_COMMANDS } from '@fedtl/coordinator';
import { fedtlVersion } from './version';

/** Where the program writes and what it reads from its process (a test passes its own). */
export type ProgramIo = CommandIo;

/** Exit status of a command line the program refuses (unknown command or option, a bad value). */
export const USAGE_EXIT_CODE = 2;

export const COMMANDS: ReadonlyArray<CommandSpec<any> | CommandGroupSpec> = [COORDINATOR_COMMAND, CLIENT_COMMAND, DEMO_COMMAND, BENCH_COMMANDS, TOKEN_COMMANDS]; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * Runs `fedtl ARGV…` (without node and the script) and resolves with the exit status: the command's own, 0 for
 * --help, --version and --print-config, 2 for a command line or configuration it refuses (one line on stderr,
 * `fedtl <command>: FEDTL_ERR_BAD_CONFIG: …`).
 */
export async function runFedtl(argv: readonly string[], io: ProgramIo, commands = COMMANDS): Promise<number> {
  let status: number | undefined;
  const program = new Command('fedtl')
    .description('federated transfer learning for text: a coordinator and clients that adapt one frozen pretrained backbone together')
    .version(fedtlVersion(), '-V, --version', 'print the version')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: io.stdout,
      writeErr: io.stderr,
      // One line, with the code every fedtl configuration error carries.
      outputError: () => undefined,
    });
  for (const spec of commands) register(program, spec, io, (code) => (status = code));
  try {
    await program.parseAsync(argv as string[], { from: 'user' });
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    if (err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0;
    const where = commandPath(argv, commands);
    if (err.code === 'commander.help' || err.code === 'commander.executeSubCommandAsync') return USAGE_EXIT_CODE;
    io.stderr(`fedtl${where}: FEDTL_ERR_BAD_CONFIG: command line: ${commanderMessage(err)} (see fedtl${where} --help)\n`);
    return USAGE_EXIT_CODE;
  }
  return status ?? USAGE_EXIT_CODE;
}

function register(parent: Command, spec: CommandSpec<any> | CommandGroupSpec, io: ProgramIo, setStatus: (code: number) => void): void { // eslint-disable-line @typescript-eslint/no-explicit-any
  const command = parent.command(spec.name).description(spec.summary);
  if (isCommandGroup(spec)) {
    for (const child of spec.commands) register(command, child, io, setStatus);
    return;
  }
  addDeclaredOptions(command, spec.options);
  if (spec.epilogue) command.addHelpText('after', spec.epilogue);
  command.action(async () => setStatus(await runCommand(command, spec, io)));
}

/** A leaf command: its options merged, --print-config answered, or the command run; errors as one line. */
async function runCommand<D extends OptionDeclarations>(command: Command, spec: CommandSpec<D>, io: ProgramIo): Promise<number> {
  const name = fullName(command);
  try {
    // Loaded here, not at the top: @fedtl/data brings the demo corpus' mail parser, which --help never needs.
    const { readUserTextSync } = await import('@fedtl/data');
    const options = loadDeclaredOptions(command, spec.options, io.env, readUserTextSync);
    if (options.printConfig) {
      await spec.validate?.(options);
      io.stdout(options.printed);
      return 0;
    }
    return await spec.run(options, io);
  } catch (err) {
    const message = err instanceof FedtlError ? `${err.code}: ${err.message}` : (err as Error).stack ?? String(err);
    io.stderr(`${name}: ${message}\n`);
    if (spec.exitCodeFor) return spec.exitCodeFor(err);
    // A configuration the user gave (options, a config or token file that is not UTF-8) is theirs to fix: 2.
    return err instanceof FedtlError && (err.code === 'FEDTL_ERR_BAD_CONFIG' || err.code === 'FEDTL_ERR_BAD_ENCODING') ? USAGE_EXIT_CODE : 1;
  }
}

function fullName(command: Command): string {
  const names: string[] = [];
  for (let at: Command | null = command; at; at = at.parent) names.unshift(at.name());
  return names.join(' ');
}

/** " coordinator", " bench domains"…: the subcommand an error belongs to, for its message. */
function commandPath(argv: readonly string[], commands: ReadonlyArray<CommandSpec<any> | CommandGroupSpec>): string { // eslint-disable-line @typescript-eslint/no-explicit-any
  const spec = commands.find((candidate) => candidate.name === argv[0]);
  if (!spec) return '';
  if (isCommandGroup(spec)) return ` ${spec.name}${commandPath(argv.slice(1), spec.commands)}`;
  return ` ${spec.name}`;
}
