// The client's privacy ledger file: written atomically, kept across runs (all its events compose together: one
// organisation's data), refused when corrupt, and the budget's refusals of a plan, named in full.
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RdpAccountant } from '@fedtl/privacy';
import type { TrainingConfig } from '@fedtl/protocol';
import { useTestSandbox } from '@fedtl/util/testing';
import { ClientPrivacyLedger } from './client-privacy-ledger';

/** 40 records, batch 10 (q = 0.25), 2 epochs: 8 steps of σ = 1.1 a round. */
const N = 40;
const config: TrainingConfig = { localEpochs: 2, batchSize: 10, learningRate: 0.1, optimizer: 'sgd', seed: 1, recordClipNorm: 1, recordNoiseMultiplier: 1.1 };
const plan = (runId: string, round: number, terms: Partial<TrainingConfig> = {}) => ({ runId, round, config: { ...config, ...terms } });
const epsilonOfRounds = (rounds: number) => new RdpAccountant().compose({ samplingRate: 0.25, noiseMultiplier: 1.1, steps: 8 * rounds }).epsilon(1e-5);

describe('ClientPrivacyLedger', () => {
  const sandbox = useTestSandbox();
  const file = () => join(sandbox.dir, 'cache', 'org-1', 'privacy-ledger.json');

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
    expect(unbounded.refusal(plan('run-a', 1, { recordClipNorm: undefined, recordNoiseMultiplier: undefined }), N)).toBeUndefined();
    await recordRounds(unbounded, 'run-a', [1, 2]);

    // A budget between 2 and 3 rounds' ε: the third round is refused, and the ledger is not touched.
    const epsilon = Number(((epsilonOfRounds(2) + epsilonOfRounds(3)) / 2).toFixed(3));
    const bounded = await ClientPrivacyLedger.open(file(), 1e-5, { epsilon, delta: 1e-5 });
    const before = await readFile(file(), 'utf8');
    const refusal = bounded.refusal(plan('run-b', 3), N);
    expect(refusal).toBe(
      `round 3 would take this client's data to ε = ${Number(epsilonOfRounds(3).toPrecision(3))} at δ = 1e-5 (ledger ${file()}: ε = ${Number(epsilonOfRounds(2).toPrecision(3))} ` +
        `spent over 2 rounds; this round: q = 0.25, σ = 1.1, 8 steps); budget --dp-epsilon ${epsilon} at --dp-delta 1e-5`,
    );
    expect(await readFile(file(), 'utf8')).toBe(before);
    expect(bounded.spent().rounds).toBe(2);
    // With four times the noise the same round fits.
    expect(bounded.refusal(plan('run-b', 3, { recordNoiseMultiplier: 4.4 }), N)).toBeUndefined();
  });

  it('with a budget, refuses a plan without DP-SGD or without noise (ε = ∞), whatever the ledger holds', async () => {
    const ledger = await ClientPrivacyLedger.open(file(), 1e-5, { epsilon: 100, delta: 1e-6 });
    expect(ledger.refusal(plan('run-a', 4, { recordClipNorm: undefined, recordNoiseMultiplier: undefined, updateClipNorm: 1 }), N)).toBe(
      "round 4 trains without DP-SGD (its plan sets no record clip norm): ε = ∞ on this client's data; budget --dp-epsilon 100 at --dp-delta 1e-6",
    );
    expect(ledger.refusal(plan('run-a', 4, { recordNoiseMultiplier: 0 }), N)).toBe(
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
});
