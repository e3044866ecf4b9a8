// `npm run demo`: a real federation on this machine — one coordinator and three client processes talking
// Socket.IO over loopback, each client holding one organisation's SpamAssassin mailbox (shipped with npm),
// embedding its mail with the frozen use-lite backbone and training an adapter and head. Prints a table of
// each organisation's held-out accuracy per round, next to what it reaches training alone.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { renderRoundTable } from './demo-table';
import type { RoundRecord } from './metrics-log';

const ROOT = resolve(__dirname, '../../..');

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    clients: { type: 'string', default: '3' },
    'per-organisation': { type: 'string', default: '300' },
    'local-epochs': { type: 'string', default: '3' },
    'personalize-epochs': { type: 'string', default: '5' },
    'out-dir': { type: 'string', default: 'out/demo' },
    'cache-dir': { type: 'string', default: '.fedtl-cache' },
    verbose: { type: 'boolean', default: false },
  },
});

const rounds = Number(values.rounds);
const clients = Number(values.clients);
const localEpochs = Number(values['local-epochs']);
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
  console.log(`fedtl demo: 1 coordinator + ${clients} clients, ${rounds} rounds, SpamAssassin mailboxes, use-lite backbone\n`);
  const coordinator = start('coordinator', 'apps/coordinator/src/main.ts', [
    '--port', '0', '--fresh', '--out-dir', outDir, '--ready-file', readyFile,
    '--rounds', String(rounds), '--min-clients', String(clients), '--labels', 'ham,spam',
    '--local-epochs', String(localEpochs), '--log-level', 'info',
  ]);
  const { url } = JSON.parse(await waitForFile(readyFile, 120_000, () => coordinator.child.exitCode === null));
  const clientIds = Array.from({ length: clients }, (_, i) => `org-${i + 1}`);
  const clientRuns = clientIds.map((id, i) =>
    start(id, 'apps/client/src/main.ts', [
      '--coordinator', url, '--client-id', id,
      '--demo-mailbox', String(i + 1), '--demo-organisations', String(clients), '--demo-per-organisation', values['per-organisation'] as string,
      '--local-baseline-epochs', String(rounds * localEpochs), '--personalize-epochs', values['personalize-epochs'] as string,
      '--embed-threads', '1',
      '--cache-dir', join(values['cache-dir'] as string, id), '--log-level', logLevel,
    ]),
  );
  const coordinatorCode = await coordinator.exited;
  const clientCodes = await Promise.all(clientRuns.map((c) => c.exited));
  if (coordinatorCode !== 0 || clientCodes.some((c) => c !== 0)) {
    console.error(`\nthe demo failed: coordinator exit ${coordinatorCode}, clients ${clientCodes.join(', ')}`);
    return 1;
  }
  const records = (await readFile(join(outDir, 'metrics.jsonl'), 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as RoundRecord);
  console.log(`\nAccuracy on each organisation's own held-out mail: the shared global model after every round, then that`);
  console.log(`model with a private head fine-tuned locally (personalised), and a model trained on the organisation's mail alone.\n`);
  console.log(renderRoundTable(records, clientIds));
  console.log(`\nDone in ${((Date.now() - started) / 1000).toFixed(0)} s. Per-round records: ${join(values['out-dir'] as string, 'metrics.jsonl')}; checkpoints: ${join(values['out-dir'] as string, 'checkpoints')}`);
  return 0;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const child of children) child.kill('SIGTERM');
    process.exit(130);
  });
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`fedtl demo: ${(err as Error).message}`);
    for (const child of children) child.kill('SIGTERM');
    process.exit(1);
  },
);
