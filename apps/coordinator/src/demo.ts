// `npm run demo`: a real federation on this machine — one coordinator and four client processes (by default) talking
// Socket.IO over loopback, each client holding one organisation's SpamAssassin mailbox (shipped with npm),
// embedding its mail with the frozen use-lite backbone and training an adapter and head on a few labelled
// mails (--train-limit). Prints a table of each organisation's held-out accuracy per round, next to what it
// reaches training alone and with a personalised head.
//
// The defaults were chosen with `npm run bench -- demo-tuning` on a validation slice of each organisation's
// training mail (docs/results/demo/tuning.md). `--validate` runs the same federation scored on that slice
// instead of the test mail. The demo before the few-labels regime: --train-limit 0 --per-organisation 300
// --rounds 5 --local-epochs 3 --batch-size 32 --personalize-epochs 5.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { spamAssassinMailboxes, validationMailbox, writeJsonl } from '@fedtl/data';
import { renderRoundTable, renderVerdict } from './demo-table';
import type { RoundRecord } from './metrics-log';

const ROOT = resolve(__dirname, '../../..');

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    clients: { type: 'string', default: '4' },
    'per-organisation': { type: 'string', default: '600' },
    'train-limit': { type: 'string', default: '6' },
    'local-epochs': { type: 'string', default: '2' },
    'batch-size': { type: 'string', default: '32' },
    'learning-rate': { type: 'string', default: '0.005' },
    'personalize-epochs': { type: 'string', default: '20' },
    validate: { type: 'boolean', default: false },
    'out-dir': { type: 'string', default: 'out/demo' },
    'cache-dir': { type: 'string', default: '.fedtl-cache' },
    verbose: { type: 'boolean', default: false },
  },
});

const rounds = Number(values.rounds);
const clients = Number(values.clients);
const localEpochs = Number(values['local-epochs']);
const trainLimit = Number(values['train-limit']);
/** The client's seed (its default): it draws the labelled mails, so --validate carves its slice with it too. */
const CLIENT_SEED = 7;
/** --validate: the share of each organisation's training mail held out and scored instead of the test mail. */
const VALIDATION_FRACTION = 0.3333;
const outDir = resolve(ROOT, values['out-dir'] as string);
const children: ChildProcess[] = [];

function start(name: string, entry: string, args: string[]): { child: ChildProcess; exited: Promise<number> } {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, entry), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const prefix = `[${name}]`.padEnd(14);
  const relay = (chunk: Buffer) => {
    for (const line of chunk.toString().split(/\r?\n|\r/)) if (line.trim()) process.stdout.write(`${prefix} ${line}\n`);
  };
  child.stdout?.on('data', relay);
  child.stderr?.on('data', relay);
  const exited = new Promise<number>((done) => child.once('exit', (code) => done(code ?? 1)));
  return { child, exited };
}

async function waitForFile(path: string, timeoutMs: number, alive: () => boolean): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (existsSync(path)) return readFile(path, 'utf8');
    if (!alive()) throw new Error('the coordinator exited before it was ready (see its output above)');
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the coordinator did not start within ${timeoutMs / 1000} s`);
}

async function main(): Promise<number> {
  const started = Date.now();
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const readyFile = join(outDir, 'ready.json');
  const logLevel = values.verbose ? 'debug' : 'info';
  const labelled = trainLimit > 0 ? `${trainLimit} labelled mails per organisation` : 'all training mail labelled';
  console.log(`fedtl demo: 1 coordinator + ${clients} clients, ${rounds} rounds, SpamAssassin mailboxes (${labelled}), use-lite backbone`);
  if (values.validate) console.log(`--validate: scoring on a validation slice of each organisation's training mail, not on its test mail`);
  console.log('');
  const clientIds = Array.from({ length: clients }, (_, i) => `org-${i + 1}`);
  const dataArgs = values.validate ? await validationFiles(clientIds) : clientIds.map((_, i) => [
    '--demo-mailbox', String(i + 1), '--demo-organisations', String(clients), '--demo-per-organisation', values['per-organisation'] as string,
  ]);
  const coordinator = start('coordinator', 'apps/coordinator/src/main.ts', [
    '--port', '0', '--fresh', '--out-dir', outDir, '--ready-file', readyFile,
    '--rounds', String(rounds), '--min-clients', String(clients), '--labels', 'ham,spam',
    '--local-epochs', String(localEpochs), '--batch-size', values['batch-size'] as string, '--learning-rate', values['learning-rate'] as string,
    '--log-level', 'info',
  ]);
  const { url } = JSON.parse(await waitForFile(readyFile, 120_000, () => coordinator.child.exitCode === null));
  const clientRuns = clientIds.map((id, i) =>
    start(id, 'apps/client/src/main.ts', [
      '--coordinator', url, '--client-id', id, ...dataArgs[i],
      ...(trainLimit > 0 ? ['--train-limit', String(trainLimit)] : []),
      '--local-baseline-epochs', String(rounds * localEpochs), '--personalize-epochs', values['personalize-epochs'] as string,
      '--embed-threads', '1',
      '--cache-dir', join(values['cache-dir'] as string, id), '--log-level', logLevel,
    ]),
  );
  const coordinatorCode = await coordinator.exited;
  const clientCodes = await Promise.all(clientRuns.map((c) => c.exited));
  removeValidationFiles();
  if (coordinatorCode !== 0 || clientCodes.some((c) => c !== 0)) {
    console.error(`\nthe demo failed: coordinator exit ${coordinatorCode}, clients ${clientCodes.join(', ')}`);
    return 1;
  }
  const records = (await readFile(join(outDir, 'metrics.jsonl'), 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as RoundRecord);
  const scoredOn = values.validate ? 'validation slice of its training mail' : 'held-out test mail';
  console.log(`\nAccuracy on each organisation's own ${scoredOn}: the shared global model after every round; then a model`);
  console.log(`trained on the organisation's labelled mail alone (local only), the final global model, and that model with a`);
  console.log(`private head fine-tuned locally (personalised).\n`);
  console.log(renderRoundTable(records, clientIds));
  const verdict = renderVerdict(records, clientIds);
  if (verdict) console.log(`\n${verdict}`);
  console.log(`\nDone in ${((Date.now() - started) / 1000).toFixed(0)} s. Per-round records: ${join(values['out-dir'] as string, 'metrics.jsonl')}; checkpoints: ${join(values['out-dir'] as string, 'checkpoints')}`);
  return 0;
}

let validationDir: string | undefined;

/**
 * --validate: each organisation's mailbox with a third of its training mail held out, written as the files a
 * client reads with --data (the rest, from which --train-limit draws) and --test-data (the held-out slice).
 */
async function validationFiles(clientIds: string[]): Promise<string[][]> {
  validationDir = await mkdtemp(join(tmpdir(), 'fedtl-demo-validate-'));
  const dir = validationDir;
  const mailboxes = await spamAssassinMailboxes({ organisations: clientIds.length, perOrganisation: Number(values['per-organisation']) });
  return Promise.all(
    mailboxes.map(async (mailbox) => {
      const { train, test } = validationMailbox(mailbox, VALIDATION_FRACTION, CLIENT_SEED);
      const trainFile = join(dir, `${mailbox.name}.train.jsonl`);
      const validationFile = join(dir, `${mailbox.name}.validation.jsonl`);
      await writeJsonl(trainFile, train);
      await writeJsonl(validationFile, test);
      return ['--data', trainFile, '--test-data', validationFile];
    }),
  );
}

function removeValidationFiles(): void {
  if (validationDir) rmSync(validationDir, { recursive: true, force: true });
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const child of children) child.kill('SIGTERM');
    removeValidationFiles();
    process.exit(130);
  });
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`fedtl demo: ${(err as Error).message}`);
    for (const child of children) child.kill('SIGTERM');
    removeValidationFiles();
    process.exit(1);
  },
);
