// `fedtl demo` (npm run demo): a real federation on this machine — one coordinator and four client processes (by default) talking
// Socket.IO over loopback, each client holding one organisation's SpamAssassin mailbox (shipped with npm),
// embedding its mail with the frozen use-lite backbone and training an adapter and head on a few labelled
// mails (--train-limit). Prints a table of each organisation's held-out accuracy per round, next to what it
// reaches training alone and with a personalised head.
//
// The defaults were chosen with `fedtl bench demo-tuning` on a validation slice of each organisation's training
// mail (docs/results/demo/tuning.md). `--validate` runs the same federation scored on that slice instead of the
// test mail. The demo before the few-labels regime: see the epilogue of demo-command.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { spamAssassinMailboxes, validationMailbox, writeJsonl } from '@fedtl/data';
import { configError, fedtlProcessArgs } from '@fedtl/util';
import type { DemoOptions } from './demo-options';
import { renderRoundTable, renderVerdict } from './demo-table';
import type { RoundRecord } from './metrics-log';

/** Where relative paths (--out-dir, --cache-dir) start, and the directory the demo refuses to empty. */
const ROOT = process.cwd();
/** The client's seed (its default): it draws the labelled mails, so --validate carves its slice with it too. */
const CLIENT_SEED = 7;
/** --validate: the share of each organisation's training mail held out and scored instead of the test mail. */
const VALIDATION_FRACTION = 0.3333;
/** How long children get to stop after SIGTERM before they are killed. */
const STOP_GRACE_MS = 3000;
const children: ChildProcess[] = [];
/** Set by SIGINT/SIGTERM: the children's exits that follow are the stop's doing, not failures to report. */
let stopping = false;

/** Starts `fedtl ARGS…` (the same build as this process) with its output relayed under `[name]`. */
function start(name: string, args: string[]): { child: ChildProcess; exited: Promise<number> } {
  const child = spawn(process.execPath, fedtlProcessArgs(args), { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
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

/**
 * Runs the demo: prepares --out-dir, starts the coordinator and one client per organisation, waits for the run,
 * prints the table. Resolves with the exit status (0 the table was printed, 1 a process failed); a SIGINT or
 * SIGTERM stops the children and exits 130/143.
 * @throws FedtlError FEDTL_ERR_BAD_CONFIG for an --out-dir it must not empty (before anything starts).
 */
export async function runDemo(options: DemoOptions): Promise<number> {
  stopOnSignals();
  try {
    return await demo(options);
  } catch (err) {
    await stopChildren();
    throw err;
  } finally {
    removeValidationFiles();
  }
}

async function demo(options: DemoOptions): Promise<number> {
  const started = Date.now();
  const { clients, rounds, localEpochs, trainLimit } = options;
  const outDir = resolve(ROOT, options.outDir);
  await prepareOutDir(outDir);
  const readyFile = join(outDir, 'ready.json');
  const logLevel = options.verbose ? 'debug' : 'info';
  const labelled = trainLimit > 0 ? `${trainLimit} labelled mails per organisation` : 'all training mail labelled';
  console.log(`fedtl demo: 1 coordinator + ${clients} clients, ${rounds} rounds, SpamAssassin mailboxes (${labelled}), use-lite backbone`);
  if (options.validate) console.log(`--validate: scoring on a validation slice of each organisation's training mail, not on its test mail`);
  console.log(
    options.secureAggregation
      ? 'Secure aggregation: on. The coordinator receives masked updates and learns only each round\'s sum; every client requires it.'
      : 'Secure aggregation: off (--no-secure-aggregation). The coordinator receives each organisation\'s update in the clear.',
  );
  console.log('');
  const clientIds = Array.from({ length: clients }, (_, i) => `org-${i + 1}`);
  const dataArgs = options.validate ? await validationFiles(clientIds, options.perOrganisation) : clientIds.map((_, i) => [
    '--demo-mailbox', String(i + 1), '--demo-organisations', String(clients), '--demo-per-organisation', String(options.perOrganisation),
  ]);
  const coordinator = start('coordinator', [
    'coordinator', '--port', '0', '--fresh', '--out-dir', outDir, '--ready-file', readyFile,
    '--rounds', String(rounds), '--min-clients', String(clients), '--labels', 'ham,spam',
    '--local-epochs', String(localEpochs), '--batch-size', String(options.batchSize), '--learning-rate', String(options.learningRate),
    // Relayed to a person, through pipes (no TTY): pretty, not the JSON the children would choose.
    '--log-level', 'info', '--log-format', 'pretty',
    ...(options.secureAggregation ? ['--secure-aggregation'] : []),
  ]);
  const { url } = JSON.parse(await waitForFile(readyFile, 120_000, () => coordinator.child.exitCode === null));
  const clientRuns = clientIds.map((id, i) =>
    start(id, [
      'client', '--coordinator', url, '--client-id', id, ...dataArgs[i],
      ...(trainLimit > 0 ? ['--train-limit', String(trainLimit)] : []),
      '--local-baseline-epochs', String(rounds * localEpochs), '--personalize-epochs', String(options.personalizeEpochs),
      '--embed-threads', '1',
      ...(options.secureAggregation ? ['--require-secure-aggregation'] : []),
      '--cache-dir', join(options.cacheDir, id), '--log-level', logLevel, '--log-format', 'pretty',
    ]),
  );
  // The coordinator waits for every organisation: a client that fails (bad data, a mailbox the corpus cannot
  // fill) would leave it waiting for ever, so the first client to exit with an error ends the demo.
  const clientFailure = Promise.race(
    clientRuns.map((run, i) => run.exited.then((code) => (code === 0 ? new Promise<never>(() => undefined) : { id: clientIds[i], code }))),
  );
  const first = await Promise.race([coordinator.exited.then((code) => ({ id: 'coordinator', code })), clientFailure]);
  if (stopping) return 1;
  if (first.id !== 'coordinator') {
    console.error(`\nthe demo failed: ${first.id} exited with code ${first.code} (its output is above); stopping the others`);
    await stopChildren();
    return 1;
  }
  const coordinatorCode = first.code;
  const clientCodes = await Promise.all(clientRuns.map((c) => c.exited));
  if (coordinatorCode !== 0 || clientCodes.some((c) => c !== 0)) {
    console.error(`\nthe demo failed: coordinator exit ${coordinatorCode}, clients ${clientCodes.join(', ')}`);
    return 1;
  }
  const records = (await readFile(join(outDir, 'metrics.jsonl'), 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as RoundRecord);
  const scoredOn = options.validate ? 'validation slice of its training mail' : 'held-out test mail';
  console.log(`\nAccuracy on each organisation's own ${scoredOn}: the shared global model after every round; then a model`);
  console.log(`trained on the organisation's labelled mail alone (local only), the final global model, and that model with a`);
  console.log(`private head fine-tuned locally (personalised).\n`);
  console.log(renderRoundTable(records, clientIds));
  const verdict = renderVerdict(records, clientIds);
  if (verdict) console.log(`\n${verdict}`);
  console.log(`\nDone in ${((Date.now() - started) / 1000).toFixed(0)} s. Per-round records: ${join(options.outDir, 'metrics.jsonl')}; checkpoints: ${join(options.outDir, 'checkpoints')}`);
  return 0;
}

/**
 * Empties `dir` for a new run, but only if it is new, empty or an earlier run's (it has the records a
 * coordinator writes); anything else, and the checkout itself or a folder above it, is refused untouched.
 */
async function prepareOutDir(dir: string): Promise<void> {
  const toRoot = relative(dir, ROOT);
  if (toRoot === '' || !toRoot.startsWith('..')) {
    throw configError('--out-dir', 'a directory for the run, not the checkout or a folder above it', dir);
  }
  if (existsSync(dir)) {
    const entries = readdirSync(dir);
    const earlierRun = entries.includes('metrics.jsonl') || entries.includes('ready.json') || entries.includes('summary.json');
    if (entries.length > 0 && !earlierRun) {
      throw configError('--out-dir', 'a new or empty directory, or an earlier demo run\'s', `${dir} (holds ${entries.length} other entries)`);
    }
    await rm(dir, { recursive: true, force: true });
  }
  await mkdir(dir, { recursive: true });
}

let validationDir: string | undefined;

/**
 * --validate: each organisation's mailbox with a third of its training mail held out, written as the files a
 * client reads with --data (the rest, from which --train-limit draws) and --test-data (the held-out slice).
 */
async function validationFiles(clientIds: string[], perOrganisation: number): Promise<string[][]> {
  validationDir = await mkdtemp(join(tmpdir(), 'fedtl-demo-validate-'));
  const dir = validationDir;
  const mailboxes = await spamAssassinMailboxes({ organisations: clientIds.length, perOrganisation });
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

/** SIGTERM to every child still running; SIGKILL to those still running after STOP_GRACE_MS. */
async function stopChildren(): Promise<void> {
  const running = children.filter((child) => child.exitCode === null && child.signalCode === null);
  const exits = running.map((child) => new Promise((done) => child.once('exit', done)));
  for (const child of running) child.kill('SIGTERM');
  const timer = setTimeout(() => running.forEach((child) => child.kill('SIGKILL')), STOP_GRACE_MS);
  await Promise.all(exits);
  clearTimeout(timer);
  removeValidationFiles();
}

// 128 + the signal's number, as shells report a process that a signal stopped.
const signalExitCodes = { SIGINT: 130, SIGTERM: 143 } as const;

function stopOnSignals(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      stopping = true;
      void stopChildren().then(() => process.exit(signalExitCodes[signal]));
    });
  }
}
