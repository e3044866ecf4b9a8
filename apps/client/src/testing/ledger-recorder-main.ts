// A process that records DP-SGD rounds in a shared client privacy ledger, for the test that two processes on one
// --dp-ledger lose nothing and never together pass the budget (client-privacy-ledger.e2e.spec.ts).
//
//   ledger-recorder-main.ts <ledger file> <go file> <subject> <rounds> [<budget ε>]
//
// Prints "ready", waits for <go file> to exist (so both processes start recording together, whatever their
// start-up time), then records each round as a client would: the check (refusal), then the record, which checks
// again under the lock. Prints one JSON line: { recorded, refusedAtCheck, refusedAtRecord }.
import { existsSync } from 'node:fs';
import { ClientPrivacyLedger } from '../dp/client-privacy-ledger';

async function main(): Promise<void> {
  const [path, go, subject, rounds, budget] = process.argv.slice(2);
  const ledger = await ClientPrivacyLedger.open(path, 1e-5, budget !== undefined ? { epsilon: Number(budget), delta: 1e-5 } : undefined);
  process.stdout.write('ready\n');
  while (!existsSync(go)) await new Promise((resolve) => setTimeout(resolve, 5));
  const result = { recorded: 0, refusedAtCheck: 0, refusedAtRecord: 0 };
  const config = { localEpochs: 1, batchSize: 10, learningRate: 0.1, optimizer: 'sgd' as const, seed: 1, recordClipNorm: 1, recordNoiseMultiplier: 1.1 };
  for (let round = 1; round <= Number(rounds); round++) {
    const plan = { runId: subject, round, config };
    if ((await ledger.refusal(plan, 40)) !== undefined) {
      result.refusedAtCheck++;
      continue;
    }
    const event = ledger.eventFor(plan, 40);
    if (!event) throw new Error('expected an event for a DP-SGD plan with noise');
    try {
      await ledger.record(event);
      result.recorded++;
    } catch (err) {
      if ((err as { code?: string }).code !== 'FEDTL_ERR_PRIVACY_BUDGET') throw err;
      result.refusedAtRecord++;
    }
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
