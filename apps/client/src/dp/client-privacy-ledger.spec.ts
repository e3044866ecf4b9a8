// The client's privacy ledger file: written atomically, kept across runs (all its events compose together: one
// organisation's data), refused when corrupt, and the budget's refusals of a plan, named in full.
import { mkdir, readFile, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RdpAccountant } from '@fedtl/privacy';
import type { TrainingConfig } from '@fedtl/protocol';
import { useTestSandbox } from '@fedtl/util/testing';
import { FedtlError } from '@fedtl/util';
import { ClientPrivacyLedger } from './client-privacy-ledger';

/** 40 records, batch 10 (q = 0.25), 2 epochs: 8 steps of σ = 1.1 a round. */
const N = 40;
const config: TrainingConfig = { localEpochs: 2, batchSize: 10, learningRate: 0.1, optimizer: 'sgd', seed: 1, recordClipNorm: 1, recordNoiseMultiplier: 1.1 };
const plan = (runId: string, round: number, terms: Partial<TrainingConfig> = {}) => ({ runId, round, config: { ...config, ...terms } });
const epsilonOfRounds = (rounds: number) => new RdpAccountant().compose({ samplingRate: 0.25, noiseMultiplier: 1.1, steps: 8 * rounds }).epsilon(1e-5);

describe('ClientPrivacyLedger', () => {
  const sandbox = useTestSandbox();
  const file = () => join(sandbox.dir, 'cache', 'org-1', 'privacy-ledger.json');

  function eventOf(ledger: ClientPrivacyLedger, runId: string, round: number) {
    const event = ledger.eventFor(plan(runId, round), N);
    if (!event) throw new Error('expected an event for a DP-SGD plan with noise');
    return event;
  }

  async function recordRounds(ledger: ClientPrivacyLedger, runId: string, rounds: number[]): Promise<void> {
    for (const round of rounds) {
      const event = ledger.eventFor(plan(runId, round), N);
      if (!event) throw new Error('expected an event for a DP-SGD plan with noise');
      await ledger.record(event);
    }
  }

  it('starts empty without a file, writes {version 1, events} at each event and reads it back in the next run', async () => {
    const first = await ClientPrivacyLedger.open(file(), 1e-5);
    expect(first.spent()).toEqual({ epsilon: 0, delta: 1e-5, rounds: 0 });
    await recordRounds(first, 'run-a', [1, 2]);
    const written = JSON.parse(await readFile(file(), 'utf8'));
    expect(written).toEqual({
      version: 1,
      events: [1, 2].map((round) => ({ round, unit: 'record', mechanism: 'poisson-sampled-gaussian', samplingRate: 0.25, noiseMultiplier: 1.1, steps: 8, subject: 'run-a' })),
    });
    expect(await readdir(join(sandbox.dir, 'cache', 'org-1'))).toEqual(['privacy-ledger.json']);

    // Another run on the same data: its rounds compose with the first run's, not in parallel with them.
    const second = await ClientPrivacyLedger.open(file(), 1e-5);
    expect(second.events).toEqual(first.events);
    await recordRounds(second, 'run-b', [1]);
    expect(second.spent()).toEqual({ epsilon: epsilonOfRounds(3), delta: 1e-5, rounds: 3 });
    expect((await ClientPrivacyLedger.open(file(), 1e-5)).spent().epsilon).toBe(epsilonOfRounds(3));
  });

  it('refuses a corrupt file at start, naming it, and leaves it as it is', async () => {
    await mkdir(join(sandbox.dir, 'cache', 'org-1'), { recursive: true });
    const cases: Array<[string, RegExp]> = [
      ['{"version": 1, "events": [', /got not JSON/],
      ['{"version": 2, "events": []}', /got version 2;/],
      ['{"events": []}', /got version undefined;/],
      ['{"version": 1, "events": {}}', /expected a list of privacy events/],
      ['{"version": 1, "events": [{"round": 1, "unit": "record", "mechanism": "poisson-sampled-gaussian", "samplingRate": 2, "noiseMultiplier": 1, "steps": 1}]}', /event 0: expected samplingRate in \(0, 1\]/],
      ['{"version": 1, "events": [{"round": 1, "unit": "client", "mechanism": "poisson-sampled-gaussian", "samplingRate": 0.1, "noiseMultiplier": 1, "steps": 1}]}', /a client-level event/],
    ];
    for (const [text, reason] of cases) {
      await writeFile(file(), text);
      const error = await ClientPrivacyLedger.open(file(), 1e-5).then(() => undefined, (err) => err);
      expect(error).toMatchObject({ code: 'FEDTL_ERR_BAD_CONFIG' });
      expect(error.message).toMatch(new RegExp(`^--dp-ledger ${file().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: expected a privacy ledger`));
      expect(error.message).toMatch(reason);
      expect(error.message).toMatch(/it is never reset silently/);
      expect(await readFile(file(), 'utf8')).toBe(text);
    }
  });

  it('refuses nothing without a budget, and with one a plan that would go over it, naming the budget, the spend and the round', async () => {
    const unbounded = await ClientPrivacyLedger.open(file(), 1e-5);
    expect(await unbounded.refusal(plan('run-a', 1, { recordClipNorm: undefined, recordNoiseMultiplier: undefined }), N)).toBeUndefined();
    await recordRounds(unbounded, 'run-a', [1, 2]);

    // A budget between 2 and 3 rounds' ε: the third round is refused, and the ledger is not touched.
    const epsilon = Number(((epsilonOfRounds(2) + epsilonOfRounds(3)) / 2).toFixed(3));
    const bounded = await ClientPrivacyLedger.open(file(), 1e-5, { epsilon, delta: 1e-5 });
    const before = await readFile(file(), 'utf8');
    const refusal = await bounded.refusal(plan('run-b', 3), N);
    expect(refusal).toBe(
      `round 3 would take this client's data to ε = ${Number(epsilonOfRounds(3).toPrecision(3))} at δ = 1e-5 (ledger ${file()}: ε = ${Number(epsilonOfRounds(2).toPrecision(3))} ` +
        `spent over 2 rounds; this round: q = 0.25, σ = 1.1, 8 steps); budget --dp-epsilon ${epsilon} at --dp-delta 1e-5`,
    );
    expect(await readFile(file(), 'utf8')).toBe(before);
    expect(bounded.spent().rounds).toBe(2);
    // With four times the noise the same round fits.
    expect(await bounded.refusal(plan('run-b', 3, { recordNoiseMultiplier: 4.4 }), N)).toBeUndefined();
  });

  it('with a budget, refuses a plan without DP-SGD or without noise (ε = ∞), whatever the ledger holds', async () => {
    const ledger = await ClientPrivacyLedger.open(file(), 1e-5, { epsilon: 100, delta: 1e-6 });
    expect(await ledger.refusal(plan('run-a', 4, { recordClipNorm: undefined, recordNoiseMultiplier: undefined, updateClipNorm: 1 }), N)).toBe(
      "round 4 trains without DP-SGD (its plan sets no record clip norm): ε = ∞ on this client's data; budget --dp-epsilon 100 at --dp-delta 1e-6",
    );
    expect(await ledger.refusal(plan('run-a', 4, { recordNoiseMultiplier: 0 }), N)).toBe(
      "round 4 trains by DP-SGD without noise (record noise multiplier 0): ε = ∞ on this client's data; budget --dp-epsilon 100 at --dp-delta 1e-6",
    );
    expect(ledger.eventFor(plan('run-a', 4, { recordNoiseMultiplier: 0 }), N)).toBeUndefined();
  });

  it('keeps the ledger in memory as the file has it when the file cannot be written', async () => {
    const ledger = await ClientPrivacyLedger.open(join(sandbox.dir, 'not-a-directory', 'privacy-ledger.json'), 1e-5);
    await writeFile(join(sandbox.dir, 'not-a-directory'), '');
    const event = ledger.eventFor(plan('run-a', 1), N);
    if (!event) throw new Error('expected an event');
    await expect(ledger.record(event)).rejects.toMatchObject({ code: 'FEDTL_ERR_INTERNAL', message: expect.stringContaining('could not record round 1') });
    expect(ledger.events).toEqual([]);
  });

  describe('shared by several processes (one --dp-ledger for every run on the same data)', () => {
    it('keeps every event when two ledgers on one file record in turn, each checking against the file as it is now', async () => {
      // The reviewer's repro: both opened before either recorded; the last writer used to win (4 of 8 events).
      const a = await ClientPrivacyLedger.open(file(), 1e-5, { epsilon: 100, delta: 1e-5 });
      const b = await ClientPrivacyLedger.open(file(), 1e-5, { epsilon: 100, delta: 1e-5 });
      for (const round of [1, 2, 3, 4]) {
        await recordRounds(a, 'run-a', [round]);
        await recordRounds(b, 'run-b', [round]);
      }
      const events = JSON.parse(await readFile(file(), 'utf8')).events.map((e: { subject: string; round: number }) => `${e.subject}/${e.round}`);
      expect(events).toEqual(['run-a/1', 'run-b/1', 'run-a/2', 'run-b/2', 'run-a/3', 'run-b/3', 'run-a/4', 'run-b/4']);
      expect((await ClientPrivacyLedger.open(file(), 1e-5)).spent()).toEqual({ epsilon: epsilonOfRounds(8), delta: 1e-5, rounds: 8 });
      // Each ledger's spend after its last record is the file's, not its own four rounds.
      expect(b.spent().rounds).toBe(8);
      expect(a.spent().rounds).toBe(7);
      // A check re-reads the file: a's refusal sees b's last round.
      const tight = await ClientPrivacyLedger.open(file(), 1e-5, { epsilon: Number(((epsilonOfRounds(8) + epsilonOfRounds(9)) / 2).toFixed(3)), delta: 1e-5 });
      await recordRounds(a, 'run-a', [5]); // a (budget 100) records a 9th round after tight was opened
      expect(await tight.refusal(plan('run-c', 1), N)).toMatch(/^round 1 would take this client's data to .* spent over 9 rounds;/);
      expect(tight.events).toHaveLength(9);
    });

    it('lets concurrent records that race to the budget record exactly what the budget affords and refuses the rest', async () => {
      // Budget: 3 rounds, not 4. Six ledgers on one file, each checked while the file was empty (every check
      // passes), then all record at once: the check made under the lock at record time is the one that counts.
      const epsilon = Number(((epsilonOfRounds(3) + epsilonOfRounds(4)) / 2).toFixed(3));
      const ledgers = await Promise.all([1, 2, 3, 4, 5, 6].map(() => ClientPrivacyLedger.open(file(), 1e-5, { epsilon, delta: 1e-5 })));
      const events = await Promise.all(
        ledgers.map(async (ledger, i) => {
          expect(await ledger.refusal(plan(`run-${i}`, 1), N)).toBeUndefined();
          return eventOf(ledger, `run-${i}`, 1);
        }),
      );
      const outcomes = await Promise.allSettled(ledgers.map((ledger, i) => ledger.record(events[i])));
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(3);
      const refusals = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as FedtlError] : []));
      expect(refusals).toHaveLength(3);
      for (const refusal of refusals) {
        expect(refusal).toBeInstanceOf(FedtlError);
        expect(refusal.code).toBe('FEDTL_ERR_PRIVACY_BUDGET');
        expect(refusal.message).toMatch(new RegExp(`^round 1 would take this client's data to ε = ${Number(epsilonOfRounds(4).toPrecision(3))} at δ = 1e-5 \\(ledger .*: ε = [^ ]+ spent over 3 rounds;.*budget --dp-epsilon ${epsilon} at --dp-delta 1e-5$`));
      }
      const written = JSON.parse(await readFile(file(), 'utf8')).events;
      expect(written).toHaveLength(3);
      expect(new Set(written.map((e: { subject: string }) => e.subject)).size).toBe(3);
      // Nothing is left behind: no lock, no temp file.
      expect(await readdir(join(sandbox.dir, 'cache', 'org-1'))).toEqual(['privacy-ledger.json']);
    });

    it('refuses a file that is gone after it held events, rather than starting again from an empty ledger', async () => {
      const ledger = await ClientPrivacyLedger.open(file(), 1e-5, { epsilon: 100, delta: 1e-5 });
      await recordRounds(ledger, 'run-a', [1, 2]);
      await rm(file());
      await expect(ledger.refusal(plan('run-a', 3), N)).rejects.toMatchObject({ code: 'FEDTL_ERR_BAD_CONFIG', message: expect.stringContaining('got no file, where it held 2 events when last read') });
      await expect(ledger.record(eventOf(ledger, 'run-a', 3))).rejects.toMatchObject({ code: 'FEDTL_ERR_BAD_CONFIG' });
      await expect(readFile(file(), 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
    });

    it('takes over a lock left by a process that died once it is stale (older than LOCK_STALE_MS)', async () => {
      const ledger = await ClientPrivacyLedger.open(file(), 1e-5);
      await mkdir(join(sandbox.dir, 'cache', 'org-1', 'privacy-ledger.json.lock'), { recursive: true });
      // A lock directory whose mtime is older than the staleness timeout: its holder is gone.
      const old = new Date(Date.now() - 60_000);
      await utimes(join(sandbox.dir, 'cache', 'org-1', 'privacy-ledger.json.lock'), old, old);
      await recordRounds(ledger, 'run-a', [1]);
      expect((await ClientPrivacyLedger.open(file(), 1e-5)).events).toHaveLength(1);
      expect(await readdir(join(sandbox.dir, 'cache', 'org-1'))).toEqual(['privacy-ledger.json']);
    });

    it('composes a long ledger by its distinct settings (20 000 events, two settings)', async () => {
      const events = Array.from({ length: 20_000 }, (_, i) => ({ round: i + 1, unit: 'record', mechanism: 'poisson-sampled-gaussian', samplingRate: 0.01, noiseMultiplier: i % 2 ? 1.1 : 2, steps: 1, subject: 'run-a' }));
      await mkdir(join(sandbox.dir, 'cache', 'org-1'), { recursive: true });
      await writeFile(file(), JSON.stringify({ version: 1, events }));
      const ledger = await ClientPrivacyLedger.open(file(), 1e-5, { epsilon: 1e6, delta: 1e-5 });
      expect(await ledger.refusal(plan('run-b', 1), N)).toBeUndefined();
      expect(ledger.spent().epsilon).toBe(
        new RdpAccountant().compose({ samplingRate: 0.01, noiseMultiplier: 2, steps: 10_000 }).compose({ samplingRate: 0.01, noiseMultiplier: 1.1, steps: 10_000 }).epsilon(1e-5),
      );
    });
  });
});
