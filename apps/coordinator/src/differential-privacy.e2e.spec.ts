// Differential privacy at the coordinator, over real sockets with scripted clients: the plans carry the DP terms,
// a Join without the DP feature is refused, DP-FedAvg aggregates the clipped updates with weight 1 over a fixed
// denominator, the ledger is charged exactly as PROTOCOL §7.1 says (checked against the accountant), a run with
// a budget stops exactly where the ledger says it must, and a resumed run continues its ledger.
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { initialWeights } from '@fedtl/model';
import { DP_FEDAVG_FEATURE, DP_SGD_FEATURE, type NamedTensor, type RoundPlan } from '@fedtl/protocol';
import { RdpAccountant } from '@fedtl/privacy';
import { configureLogging } from '@fedtl/util';
import { useTestSandbox } from '@fedtl/util/testing';
import type { RoundRecord } from './metrics-log';
import { HARNESS_SPEC, maxAbsDifference, readCheckpointWeights, startScriptedFederation } from './testing/federation-harness';

const filled = (plan: RoundPlan, value: number): NamedTensor[] => plan.weights.map((t) => ({ ...t, data: new Float32Array(t.data.length).fill(value) }));
const normOf = (tensors: NamedTensor[]) => Math.sqrt(tensors.reduce((sum, t) => sum + Array.from(t.data).reduce((s, v) => s + v * v, 0), 0));
const clientLevelEpsilon = (rounds: number, noiseMultiplier: number) => new RdpAccountant().compose({ samplingRate: 1, noiseMultiplier, steps: rounds }).epsilon(1e-5);

async function records(outDir: string): Promise<RoundRecord[]> {
  return (await readFile(join(outDir, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as RoundRecord);
}

describe('differential privacy at the coordinator', () => {
  const sandbox = useTestSandbox();

  beforeAll(() => configureLogging({ level: 'error' }));

  it('refuses a Join without the DP feature the plans need, naming it', async () => {
    for (const [flags, feature] of [
      [['--dp-update-clip-norm', '1', '--dp-update-noise-multiplier', '1'], DP_FEDAVG_FEATURE],
      [['--dp-record-clip-norm', '1', '--dp-record-noise-multiplier', '1'], DP_SGD_FEATURE],
    ] as const) {
      const outDir = join(sandbox.dir, feature.replace('/', '-'));
      const { client } = await startScriptedFederation(sandbox, [...flags, '--rounds', '1', '--min-clients', '2'], { audit: false, outDir });
      const old = await client('old').join({ features: [] });
      expect(old.ok ? 'admitted' : [old.error.code, old.error.message.includes(feature)]).toEqual(['FEDTL_ERR_FEATURE_UNSUPPORTED', true]);
      expect((await client('new').join({ features: [feature] })).ok).toBe(true);
    }
  });

  it('DP-FedAvg: clips each update to S, weighs it 1 whatever its example count, and divides by q·N', async () => {
    // z = 1e-6: the noise (about 1e-6 per value) is far below what the comparison resolves.
    const outDir = join(sandbox.dir, 'mean');
    const { started, client } = await startScriptedFederation(sandbox, ['--rounds', '1', '--min-clients', '2', '--dp-update-clip-norm', '0.5', '--dp-update-noise-multiplier', '1e-6'], { audit: false, outDir });
    const sent: NamedTensor[][] = [];
    for (const [id, value, examples] of [['big', 1, 1000], ['small', 1e-3, 2]] as const) {
      const c = client(id);
      c.onPlan(async (plan) => {
        expect(plan.config).toMatchObject({ updateClipNorm: 0.5 });
        expect(plan.config.updateNoiseStddev).toBeUndefined();
        const delta = filled(plan, value);
        sent.push(delta);
        await c.sendUpdate(plan, delta, examples);
      });
      expect((await c.join({ features: [DP_FEDAVG_FEATURE], numTrainExamples: examples, numTestExamples: 0 })).ok).toBe(true);
    }
    await started.finished;
    const clipped = sent.map((delta) => {
      const factor = Math.min(1, 0.5 / normOf(delta));
      return delta.map((t) => Float32Array.from(t.data, (v) => v * factor));
    });
    const global = initialWeights(HARNESS_SPEC, 5);
    // q = 1, N = 2: (clip(big) + clip(small)) / 2, added to the global weights by FedAvg.
    const expected = global.map((t, i) => ({ ...t, data: Float32Array.from(t.data, (v, j) => v + (clipped[0][i][j] + clipped[1][i][j]) / 2) }));
    expect(maxAbsDifference(await readCheckpointWeights(outDir, 1), expected)).toBeLessThan(2e-5);
  });

  it('stops exactly where the ledger says the budget is spent, tells the clients why, and a resumed run continues its ledger', async () => {
    const z = 2;
    // A budget between the cost of 3 and of 4 rounds: round 4 must be refused before any plan leaves.
    const budget = (clientLevelEpsilon(3, z) + clientLevelEpsilon(4, z)) / 2;
    const outDir = join(sandbox.dir, 'budget');
    const dpFlags = ['--min-clients', '2', '--dp-update-clip-norm', '1', '--dp-update-noise-multiplier', String(z)];
    const first = await startScriptedFederation(sandbox, ['--rounds', '6', ...dpFlags, '--dp-epsilon', String(budget)], { audit: false, outDir });
    const clients = ['org-1', 'org-2'].map((id) => first.client(id));
    for (const c of clients) {
      c.onPlan(async (plan) => void (await c.sendUpdate(plan, filled(plan, 0.01), 20)));
      expect((await c.join({ features: [DP_FEDAVG_FEATURE], numTestExamples: 0 })).ok).toBe(true);
    }
    const failure = await first.started.finished.then(() => undefined, (err: Error & { code?: string }) => err);
    expect(failure?.code).toBe('FEDTL_ERR_PRIVACY_BUDGET');
    expect(failure?.message).toContain(`round 4 would take the run to ε = ${clientLevelEpsilon(4, z).toPrecision(4)} at δ = 0.00001 (client-level, 4 events), over its budget of ε = ${budget}`);
    expect(failure?.message).toContain(`spent so far: ε = ${clientLevelEpsilon(3, z).toPrecision(4)}`);
    expect(first.started.coordinator.roundsCompleted).toBe(3);
    expect(clients.map((c) => c.plans.map((p) => p.round))).toEqual([[1, 2, 3], [1, 2, 3]]);
    expect(clients.map((c) => (c.verdict?.status === 'failed' ? c.verdict.error.code : c.verdict?.status))).toEqual(['FEDTL_ERR_PRIVACY_BUDGET', 'FEDTL_ERR_PRIVACY_BUDGET']);
    expect(existsSync(join(outDir, 'checkpoints', 'round-000004.ckpt'))).toBe(false);

    // metrics.jsonl: each round's charge and the running total are the accountant's, to the last digit.
    const logged = await records(outDir);
    expect(logged.map((r) => [r.round, r.status, r.privacy?.events.length])).toEqual([[1, 'aggregated', 1], [2, 'aggregated', 1], [3, 'aggregated', 1]]);
    logged.forEach((r, k) => expect(r.privacy?.spent).toEqual([{ unit: 'client', epsilon: clientLevelEpsilon(k + 1, z), delta: 1e-5, events: k + 1 }]));
    const summary = JSON.parse(await readFile(join(outDir, 'summary.json'), 'utf8'));
    expect(summary).toMatchObject({ status: 'failed', error: { code: 'FEDTL_ERR_PRIVACY_BUDGET' }, roundsCompleted: 3, privacy: { budget: { epsilon: budget, delta: 1e-5 }, events: 3 } });
    expect(summary.privacy.spent[0].epsilon).toBe(clientLevelEpsilon(3, z));

    // The operator raises the budget and restarts: the ledger resumes from the checkpoint, not from zero.
    const second = await startScriptedFederation(sandbox, ['--rounds', '5', ...dpFlags, '--dp-epsilon', String(clientLevelEpsilon(5, z) + 1e-9)], { audit: false, outDir });
    expect(second.started.coordinator.privacy?.spent).toEqual([{ unit: 'client', epsilon: clientLevelEpsilon(3, z), delta: 1e-5, events: 3 }]);
    const status = (await (await fetch(`${second.started.url}/api/status`)).json()) as { privacy?: unknown };
    expect(status.privacy).toMatchObject({ mechanism: { unit: 'client', clipNorm: 1, noiseMultiplier: z, samplingRate: 1 }, events: 3 });
    const prometheus = await (await fetch(`${second.started.url}/metrics`)).text();
    expect(prometheus).toContain(`fedtl_privacy_epsilon_spent{unit="client",delta="0.00001"} ${clientLevelEpsilon(3, z)}`);
    expect(prometheus).toContain(`fedtl_privacy_epsilon_budget{unit="client",delta="0.00001"} ${clientLevelEpsilon(5, z) + 1e-9}`);
    for (const id of ['org-1', 'org-2']) {
      const c = second.client(id);
      c.onPlan(async (plan) => void (await c.sendUpdate(plan, filled(plan, 0.01), 20)));
      expect((await c.join({ features: [DP_FEDAVG_FEATURE], numTestExamples: 0 })).ok).toBe(true);
    }
    expect((await second.started.finished).roundsCompleted).toBe(5);
    const resumed = JSON.parse(await readFile(join(outDir, 'summary.json'), 'utf8'));
    expect(resumed).toMatchObject({ status: 'finished', roundsCompleted: 5, resumedFrom: 3, privacy: { events: 5 } });
    expect(resumed.privacy.spent[0].epsilon).toBe(clientLevelEpsilon(5, z));
  });

  it('never gives budget back: failed attempts stay charged across a restart, a checkpoint fallback keeps the later charges, --init-from brings the source\'s ledger', async () => {
    // 1. Record-level attempts that miss their quorum: both plans went out, both clients are charged, twice.
    const failing = join(sandbox.dir, 'failing');
    const recordFlags = ['--min-clients', '2', '--dp-record-clip-norm', '1', '--dp-record-noise-multiplier', '2'];
    const first = await startScriptedFederation(sandbox, ['--rounds', '1', '--max-round-attempts', '2', '--round-retry-delay-ms', '0', ...recordFlags], { audit: false, outDir: failing });
    const honest = first.client('org-1');
    honest.onPlan(async (plan) => void (await honest.sendUpdate(plan, filled(plan, 0.001), 40)));
    const refuser = first.client('org-2');
    refuser.onPlan(async () => void (await refuser.sendRoundFailed('over my own budget')));
    for (const c of [honest, refuser]) expect((await c.join({ features: [DP_SGD_FEATURE], numTestExamples: 0 })).ok).toBe(true);
    await expect(first.started.finished).rejects.toMatchObject({ code: 'FEDTL_ERR_QUORUM_NOT_MET' });
    const runId = first.started.coordinator.privacy && JSON.parse(await readFile(join(failing, 'privacy-ledger.json'), 'utf8')).runId;
    const again = await startScriptedFederation(sandbox, ['--rounds', '1', ...recordFlags], { audit: false, outDir: failing });
    expect(again.started.coordinator.privacy?.events).toBe(4);
    expect(again.started.coordinator.privacy?.spent[0]).toMatchObject({ unit: 'record', events: 2 });
    expect(JSON.parse(await readFile(join(failing, 'privacy-ledger.json'), 'utf8')).runId).toBe(runId);
    await again.started.stop();

    // A client that refuses the plan before training (its own budget) released nothing: its charge is taken back.
    const refusing = join(sandbox.dir, 'refusing');
    const third = await startScriptedFederation(sandbox, ['--rounds', '1', '--max-round-attempts', '1', ...recordFlags], { audit: false, outDir: refusing });
    const trains = third.client('org-1');
    trains.onPlan(async (plan) => void (await trains.sendUpdate(plan, filled(plan, 0.001), 40)));
    const spent = third.client('org-2');
    spent.onPlan(async () => void (await spent.sendRoundFailed('over my own budget', 'FEDTL_ERR_PRIVACY_BUDGET')));
    for (const c of [trains, spent]) expect((await c.join({ features: [DP_SGD_FEATURE], numTestExamples: 0 })).ok).toBe(true);
    await expect(third.started.finished).rejects.toMatchObject({ code: 'FEDTL_ERR_QUORUM_NOT_MET' });
    const ledger = JSON.parse(await readFile(join(refusing, 'privacy-ledger.json'), 'utf8'));
    expect(ledger.events.map((e: { subject: string }) => e.subject)).toEqual(['org-1']);
    expect((await records(refusing))[0].privacy?.events.map((e) => e.subject)).toEqual(['org-1']);

    // 2. Two client-level rounds; the newest checkpoint is damaged: the run resumes from round 1, the ledger keeps round 2's charge.
    const damaged = join(sandbox.dir, 'damaged');
    const clientFlags = ['--min-clients', '2', '--dp-update-clip-norm', '1', '--dp-update-noise-multiplier', '2'];
    const runTwo = async (rounds: number, outDir: string, extra: string[] = []) => {
      const run = await startScriptedFederation(sandbox, ['--rounds', String(rounds), ...clientFlags, ...extra], { audit: false, outDir });
      for (const id of ['org-1', 'org-2']) {
        const c = run.client(id);
        c.onPlan(async (plan) => void (await c.sendUpdate(plan, filled(plan, 0.01), 20)));
        expect((await c.join({ features: [DP_FEDAVG_FEATURE], numTestExamples: 0 })).ok).toBe(true);
      }
      return run;
    };
    const original = await runTwo(2, damaged);
    await original.started.finished;
    await original.started.stop();
    await writeFile(join(damaged, 'checkpoints', 'round-000002.ckpt'), 'damaged');
    const resumed = await runTwo(2, damaged);
    expect(resumed.started.coordinator.privacy?.events).toBe(2);
    await resumed.started.finished;
    await resumed.started.stop();
    expect(resumed.started.coordinator.privacy?.spent).toEqual([{ unit: 'client', epsilon: clientLevelEpsilon(3, 2), delta: 1e-5, events: 3 }]);

    // 3. A new run seeded from that one starts with its three charges.
    const seeded = await startScriptedFederation(sandbox, ['--rounds', '1', ...clientFlags, '--init-from', damaged], { audit: false, outDir: join(sandbox.dir, 'seeded') });
    expect(seeded.started.coordinator.privacy?.events).toBe(3);
  });

  it('record-level with a budget: a client whose data is spent is no longer selected and the others go on; the run stops when too few remain', async () => {
    // σ = 2, 2 local epochs of batch 16: "tiny" (2 examples, q = 1) spends ε 3.19 a round and 4.73 over two; the
    // others (200 examples, q = 0.08) 1.80 over three. A budget of 4 pays one round of tiny's data, three of theirs.
    const flags = ['--rounds', '3', '--min-clients', '2', '--dp-record-clip-norm', '1', '--dp-record-noise-multiplier', '2', '--dp-epsilon', '4'];
    const federate = async (name: string, minAvailable: number) => {
      const run = await startScriptedFederation(sandbox, [...flags, '--min-available', String(minAvailable)], { audit: false, outDir: join(sandbox.dir, name) });
      for (const [id, n] of [['tiny', 2], ['big-1', 200], ['big-2', 200]] as const) {
        const c = run.client(id);
        c.onPlan(async (plan) => void (await c.sendUpdate(plan, filled(plan, 0.001), n)));
        expect((await c.join({ features: [DP_SGD_FEATURE], numTrainExamples: n, numTestExamples: 0 })).ok).toBe(true);
      }
      return run;
    };
    const goesOn = await federate('goes-on', 2);
    expect((await goesOn.started.finished).roundsCompleted).toBe(3);
    await goesOn.started.stop();
    const logged = await records(join(sandbox.dir, 'goes-on'));
    // Round 1 starts once two have joined (tiny first), so big-2 may or may not be in it.
    expect(logged[0].selected).toContain('tiny');
    expect(logged.slice(1).map((r) => r.selected)).toEqual([['big-1', 'big-2'], ['big-1', 'big-2']]);
    expect(logged[2].privacy?.spent[0]).toMatchObject({ unit: 'record', subject: 'tiny', events: 1 });
    expect(logged[2].privacy?.spent[0].epsilon).toBeLessThanOrEqual(4);

    const stops = await federate('stops', 3);
    const failure = await stops.started.finished.then(() => undefined, (err: Error & { code?: string }) => err);
    expect(failure?.code).toBe('FEDTL_ERR_PRIVACY_BUDGET');
    expect(failure?.message).toContain('round 2 cannot run within the budget of ε = 4 at δ = 0.00001 (--dp-epsilon, --dp-delta): one more round would take the data of 1 of the 3 joined clients over it (tiny; "tiny" to ε = 4.729');
    expect(failure?.message).toContain('leaving 2, fewer than --min-available 3; spent so far: ε = 3.189');
    expect(stops.started.coordinator.roundsCompleted).toBe(1);

    // A budget that does not pay for tiny's first round: the run ends when tiny joins, it does not wait for ever.
    const never = await startScriptedFederation(sandbox, [...flags.slice(0, -1), '3', '--min-available', '2'], { audit: false, outDir: join(sandbox.dir, 'never') });
    for (const [id, n] of [['big-1', 200], ['tiny', 2]] as const) {
      expect((await never.client(id).join({ features: [DP_SGD_FEATURE], numTrainExamples: n, numTestExamples: 0 })).ok).toBe(true);
    }
    await expect(never.started.finished).rejects.toMatchObject({ code: 'FEDTL_ERR_PRIVACY_BUDGET', message: expect.stringContaining('round 1 cannot run within the budget of ε = 3') });
  });

  it('record-level: the plans ask for DP-SGD, and each selected client is charged its own q = batch / n as the plans go out', async () => {
    const outDir = join(sandbox.dir, 'record');
    const { started, client } = await startScriptedFederation(sandbox, ['--rounds', '1', '--min-clients', '2', '--dp-record-clip-norm', '1.5', '--dp-record-noise-multiplier', '1.1'], { audit: false, outDir });
    for (const [id, n] of [['small', 32], ['large', 160]] as const) {
      const c = client(id);
      c.onPlan(async (plan) => {
        expect(plan.config).toMatchObject({ recordClipNorm: 1.5, recordNoiseMultiplier: 1.1 });
        await c.sendUpdate(plan, filled(plan, 0.001), n);
      });
      expect((await c.join({ features: [DP_SGD_FEATURE], numTrainExamples: n, numTestExamples: 0 })).ok).toBe(true);
    }
    await started.finished;
    const [record] = await records(outDir);
    // The harness trains 2 local epochs of batch 16: q = 16/32 → 2 steps an epoch; q = 16/160 → 10.
    expect(record.privacy?.events.map((e) => [e.subject, e.samplingRate, e.steps])).toEqual([['large', 0.1, 20], ['small', 0.5, 4]]);
    const small = new RdpAccountant().compose({ samplingRate: 0.5, noiseMultiplier: 1.1, steps: 4 }).epsilon(1e-5);
    const large = new RdpAccountant().compose({ samplingRate: 0.1, noiseMultiplier: 1.1, steps: 20 }).epsilon(1e-5);
    expect(record.privacy?.spent).toEqual([{ unit: 'record', epsilon: Math.max(small, large), delta: 1e-5, subject: small > large ? 'small' : 'large', events: 1 }]);
  });
});
