// Two client processes on one --dp-ledger (README: the same file for every run on the same data), recording at
// once: the file keeps every event of both, and together they never pass the budget. Whatever the interleaving
// the counts are the same, so the test does not depend on timing; a start barrier (a file both wait for) only
// makes the two race for real.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RdpAccountant } from '@fedtl/privacy';
import { spawnTs, useTestSandbox, waitUntil } from '@fedtl/util/testing';

const RECORDER = 'apps/client/src/testing/ledger-recorder-main.ts';
/** The recorder's rounds: 40 records, batch 10 (q = 0.25), one epoch of 4 steps, σ = 1.1. */
const epsilonOfRounds = (rounds: number) => new RdpAccountant().compose({ samplingRate: 0.25, noiseMultiplier: 1.1, steps: 4 * rounds }).epsilon(1e-5);

interface Result {
  recorded: number;
  refusedAtCheck: number;
  refusedAtRecord: number;
}

describe('one client privacy ledger shared by two processes', () => {
  const sandbox = useTestSandbox();

  async function race(rounds: number, budget?: number): Promise<Result[]> {
    const ledger = join(sandbox.dir, 'privacy-ledger.json');
    const go = join(sandbox.dir, 'go');
    const recorders = ['run-a', 'run-b'].map((subject) => {
      const recorder = spawnTs(RECORDER, [ledger, go, subject, String(rounds), ...(budget !== undefined ? [String(budget)] : [])]);
      sandbox.processes.push(recorder);
      return recorder;
    });
    await waitUntil(() => recorders.every((r) => r.output().includes('ready')), 60_000, 'both recorders ready');
    await writeFile(go, '');
    const codes = await Promise.all(recorders.map((r) => r.exited));
    expect({ codes, outputs: recorders.map((r) => r.output()) }).toEqual({ codes: [0, 0], outputs: expect.any(Array) });
    return recorders.map((r) => JSON.parse(r.output().trim().split('\n').pop() as string) as Result);
  }

  const eventsIn = async () => JSON.parse(await readFile(join(sandbox.dir, 'privacy-ledger.json'), 'utf8')).events as Array<{ subject: string; round: number }>;

  it('keeps every event of both', async () => {
    const results = await race(6);
    expect(results).toEqual([{ recorded: 6, refusedAtCheck: 0, refusedAtRecord: 0 }, { recorded: 6, refusedAtCheck: 0, refusedAtRecord: 0 }]);
    const events = await eventsIn();
    for (const subject of ['run-a', 'run-b']) expect(events.filter((e) => e.subject === subject).map((e) => e.round)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(events).toHaveLength(12);
  }, 120_000);

  it('records together exactly the rounds the budget affords, however the two interleave', async () => {
    // The budget pays for 5 rounds, not 6; each process asks for 6.
    const budget = Number(((epsilonOfRounds(5) + epsilonOfRounds(6)) / 2).toFixed(3));
    const results = await race(6, budget);
    expect(results[0].recorded + results[1].recorded).toBe(5);
    for (const result of results) expect(result.recorded + result.refusedAtCheck + result.refusedAtRecord).toBe(6);
    expect(await eventsIn()).toHaveLength(5);
  }, 120_000);
});
