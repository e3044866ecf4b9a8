// `fedtl token issue|revoke|list`: the operator's command for per-client tokens. Its options are declared once
// here; the store's operations are in token-store.ts.
import { resolve } from 'node:path';
import { FedtlError } from '@fedtl/util';
import { parseCommandLine, stringOption, type CommandGroupSpec, type CommandSpec } from '@fedtl/util/options';
// The store's code (and its locking and atomic-write packages) loads only when a command runs, not for --help.
import type { TokenListing } from './token-store';

const STORE_OPTIONS = {
  outDir: stringOption({ help: "the coordinator's --out-dir; the store is DIR/tokens.json", valueName: 'DIR', once: true }),
  tokenStore: stringOption({ help: 'a store elsewhere (give the coordinator the same --token-store FILE)', valueName: 'FILE', once: true }),
};
// A client id or token id names one organisation's credential: never taken from the environment.
const CLIENT_OPTION = { client: stringOption({ help: 'the client id', valueName: 'ID', env: null, once: true }) };
const TOKEN_ID_OPTION = { tokenId: stringOption({ help: 'one token, by the id `fedtl token list` shows', valueName: 'ID', env: null, once: true }) };

export type TokenCommand =
  | { command: 'issue'; store: string; clientId: string }
  | { command: 'revoke'; store: string; which: { clientId: string } | { tokenId: string } }
  | { command: 'list'; store: string };

/** Where the command writes: stdout gets only what a script may capture (the token), stderr the rest. */
export interface CommandOutput {
  stdout(text: string): void;
  stderr(text: string): void;
}

function usageError(name: string, expected: string, got: unknown): FedtlError {
  return new FedtlError('FEDTL_ERR_BAD_CONFIG', `${name}: expected ${expected}, got ${JSON.stringify(got)}`);
}

/** The store's path: exactly one of --out-dir and --token-store. */
async function storeOf(values: { outDir?: string; tokenStore?: string }): Promise<string> {
  if ((values.outDir === undefined) === (values.tokenStore === undefined)) {
    throw usageError('--out-dir/--token-store', 'exactly one of them', values.outDir === undefined ? 'neither' : 'both');
  }
  const { tokenStorePath } = await import('./token-store');
  return values.tokenStore ?? tokenStorePath(values.outDir as string);
}

const EXIT_STATUS = '\nExit status: 0 done; 2 bad usage or an unusable store; 1 anything else.';

type TokenOptions = typeof STORE_OPTIONS & Partial<typeof CLIENT_OPTION & typeof TOKEN_ID_OPTION>;
type TokenValues = { outDir?: string; tokenStore?: string; client?: string; tokenId?: string };

function tokenCommand<D extends TokenOptions>(
  name: TokenCommand['command'],
  summary: string,
  options: D,
  toCommand: (values: TokenValues, store: string) => TokenCommand,
): CommandSpec<D> {
  return {
    name,
    summary,
    epilogue: EXIT_STATUS,
    options,
    async run(loaded, io) {
      const values = loaded.values as TokenValues;
      await run(toCommand(values, await storeOf(values)), io);
      return 0;
    },
  };
}

export const TOKEN_COMMANDS: CommandGroupSpec = {
  name: 'token',
  summary: 'per-client tokens in a coordinator\'s token store: issue, revoke, list',
  commands: [
    tokenCommand('issue', 'issue a token for --client ID: the token alone on stdout (shown this once, stored nowhere), how to use it on stderr', { ...STORE_OPTIONS, ...CLIENT_OPTION }, (values, store) => {
      if (values.client === undefined) throw usageError('--client', 'the client id to issue a token for', 'none');
      return { command: 'issue', store, clientId: values.client };
    }),
    tokenCommand('revoke', 'revoke every token of --client ID, or one --token-id ID; a running coordinator disconnects its holder at once', { ...STORE_OPTIONS, ...CLIENT_OPTION, ...TOKEN_ID_OPTION }, (values, store) => {
      if ((values.client === undefined) === (values.tokenId === undefined)) {
        throw usageError('--client/--token-id', 'exactly one of them', values.client === undefined ? 'neither' : 'both');
      }
      return { command: 'revoke', store, which: values.client !== undefined ? { clientId: values.client } : { tokenId: values.tokenId as string } };
    }),
    tokenCommand('list', 'client, token id, created, revoked (never a secret or a hash)', STORE_OPTIONS, (_values, store) => ({ command: 'list', store })),
  ],
};

/**
 * `fedtl token ARGV…` without the program around it (tests, scripts): the first word picks the subcommand, the
 * rest is parsed against its declarations. Resolves with the exit status; errors are written to `out.stderr`.
 */
export async function runTokenCommand(argv: readonly string[], out: CommandOutput, env: Record<string, string | undefined> = {}): Promise<number> {
  try {
    const spec = TOKEN_COMMANDS.commands.find((candidate) => candidate.name === argv[0]) as CommandSpec<TokenOptions> | undefined;
    if (!spec) throw usageError('command', 'one of issue, revoke, list', argv[0] ?? 'none');
    const { readUserTextSync } = await import('@fedtl/data');
    return await spec.run(parseCommandLine(spec.options, argv.slice(1), env, readUserTextSync), { env, ...out });
  } catch (err) {
    if (err instanceof FedtlError) {
      out.stderr(`fedtl token: ${err.code}: ${err.message}\n`);
      return err.code === 'FEDTL_ERR_BAD_CONFIG' ? 2 : 1;
    }
    out.stderr(`fedtl token: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  }
}

async function run(command: TokenCommand, out: CommandOutput): Promise<void> {
  const { issueToken, listTokens, readTokenStore, revokeTokens } = await import('./token-store');
  const store = resolve(command.store);
  if (command.command === 'issue') {
    const { token, listing } = await issueToken(store, command.clientId);
    out.stdout(`${token}\n`);
    out.stderr(
      [
        `issued token ${listing.tokenId} for client ${listing.clientId} (store ${store})`,
        'The line above is the token, shown this once: the store keeps only a hash of it. Hand it to',
        `${listing.clientId} over a channel you trust; they keep it in a file only they can read and start with:`,
        `  fedtl client --coordinator URL --client-id ${listing.clientId} --token-file ${listing.clientId}.token …`,
        `It admits client id ${listing.clientId} only, and only at a coordinator using this store. A coordinator`,
        'started with this store takes the token up while it runs; one started without a store needs a restart.',
        `Straight into a file: (umask 077; fedtl token issue … --client ${listing.clientId} > ${listing.clientId}.token)`,
        '',
      ].join('\n'),
    );
    return;
  }
  if (command.command === 'revoke') {
    const { revoked, alreadyRevoked } = await revokeTokens(store, command.which);
    for (const t of revoked) out.stderr(`revoked token ${t.tokenId} of client ${t.clientId}\n`);
    for (const t of alreadyRevoked) out.stderr(`token ${t.tokenId} of client ${t.clientId} was revoked already (${t.revokedAt})\n`);
    if (revoked.length > 0) out.stderr('A coordinator using this store disconnects their holders within a second.\n');
    return;
  }
  const contents = await readTokenStore(store);
  const tokens = contents ? listTokens(contents) : [];
  if (tokens.length === 0) {
    out.stderr(contents ? `no tokens in ${store}\n` : `no token store at ${store} (no token issued there yet; is --out-dir the coordinator's?)\n`);
    return;
  }
  out.stdout(formatTable(tokens));
}

/** The listing as aligned columns: client, token id, created, revoked ("-" when not). */
export function formatTable(tokens: readonly TokenListing[]): string {
  const rows = [['CLIENT', 'TOKEN ID', 'CREATED', 'REVOKED'], ...tokens.map((t) => [t.clientId, t.tokenId, t.createdAt, t.revokedAt ?? '-'])];
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]))).join('  ')).join('\n') + '\n';
}
