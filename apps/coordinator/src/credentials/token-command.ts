// `npm run token -- issue|revoke|list`: the operator's command for per-client tokens. Options are parsed here
// and nowhere else; the store's operations are in token-store.ts.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { FedtlError } from '@fedtl/util';
import { issueToken, listTokens, readTokenStore, revokeTokens, tokenStorePath, type TokenListing } from './token-store';

export const TOKEN_USAGE = `usage: npm run token -- <command> (--out-dir DIR | --token-store FILE) [options]

commands:
  issue --client ID          issue a token for client ID: the token alone on stdout (shown this once, stored
                             nowhere), how to use it on stderr
  revoke --client ID         revoke every token of client ID
  revoke --token-id ID       revoke one token; a running coordinator disconnects its holder at once
  list                       client, token id, created, revoked (never a secret or a hash)

options:
  --out-dir DIR              the coordinator's --out-dir; the store is DIR/tokens.json
  --token-store FILE         a store elsewhere (give the coordinator the same --token-store FILE)
  --help                     this text

exit status: 0 done, 2 bad usage or an unusable store, 1 anything else
`;

const FLAGS = {
  'out-dir': { type: 'string' },
  'token-store': { type: 'string' },
  client: { type: 'string' },
  'token-id': { type: 'string' },
  help: { type: 'boolean' },
} as const;

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

/**
 * Parses the command line (without node and the script).
 * @returns the command, or 'help'
 * @throws FEDTL_ERR_BAD_CONFIG naming the option, what it expects and what came
 */
export function parseTokenCommand(argv: string[]): TokenCommand | 'help' {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: FLAGS, strict: true, allowPositionals: true });
  } catch (err) {
    throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `command line: ${(err as Error).message} (see --help)`);
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  // parseArgs keeps the last of a repeated option: `--client org-1 --client org-2` must not quietly mean org-2.
  for (const flag of Object.keys(FLAGS)) {
    const given = argv.filter((arg) => arg === `--${flag}` || arg.startsWith(`--${flag}=`));
    if (given.length > 1) throw usageError(`--${flag}`, 'it once', `${given.length} times`);
  }
  if (positionals.length !== 1) throw usageError('command', 'one of issue, revoke, list', positionals.length === 0 ? 'none' : positionals.join(' '));
  const command = positionals[0];
  if (command !== 'issue' && command !== 'revoke' && command !== 'list') throw usageError('command', 'one of issue, revoke, list', command);
  if ((values['out-dir'] === undefined) === (values['token-store'] === undefined)) {
    throw usageError('--out-dir/--token-store', 'exactly one of them', values['out-dir'] === undefined ? 'neither' : 'both');
  }
  const store = values['token-store'] ?? tokenStorePath(values['out-dir'] as string);
  const allowed: Record<TokenCommand['command'], string[]> = { issue: ['client'], revoke: ['client', 'token-id'], list: [] };
  for (const flag of ['client', 'token-id'] as const) {
    if (values[flag] !== undefined && !allowed[command].includes(flag)) throw usageError(`--${flag}`, `no --${flag} with ${command}`, values[flag]);
  }
  if (command === 'list') return { command, store };
  if (command === 'issue') {
    if (values.client === undefined) throw usageError('--client', 'the client id to issue a token for', 'none');
    return { command, store, clientId: values.client };
  }
  if ((values.client === undefined) === (values['token-id'] === undefined)) {
    throw usageError('--client/--token-id', 'exactly one of them', values.client === undefined ? 'neither' : 'both');
  }
  return { command, store, which: values.client !== undefined ? { clientId: values.client } : { tokenId: values['token-id'] as string } };
}

/** Runs the command; resolves with the process's exit status (errors are written to stderr, not thrown). */
export async function runTokenCommand(argv: string[], out: CommandOutput): Promise<number> {
  try {
    const command = parseTokenCommand(argv);
    if (command === 'help') {
      out.stdout(TOKEN_USAGE);
      return 0;
    }
    await run(command, out);
    return 0;
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
  const store = resolve(command.store);
  if (command.command === 'issue') {
    const { token, listing } = await issueToken(store, command.clientId);
    out.stdout(`${token}\n`);
    out.stderr(
      [
        `issued token ${listing.tokenId} for client ${listing.clientId} (store ${store})`,
        'The line above is the token, shown this once: the store keeps only a hash of it. Hand it to',
        `${listing.clientId} over a channel you trust; they keep it in a file only they can read and start with:`,
        `  npm run client -- --coordinator URL --client-id ${listing.clientId} --token-file ${listing.clientId}.token …`,
        `It admits client id ${listing.clientId} only, and only at a coordinator using this store. A coordinator`,
        'started with this store takes the token up while it runs; one started without a store needs a restart.',
        `Straight into a file: (umask 077; npm run -s token -- issue … --client ${listing.clientId} > ${listing.clientId}.token)`,
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
    out.stderr(`no tokens in ${store}\n`);
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
