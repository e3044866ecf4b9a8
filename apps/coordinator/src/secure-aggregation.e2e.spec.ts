// Secure aggregation end to end: the real coordinator (in this process, so the test can record exactly what it
// receives) and real client processes over real sockets. The reference is the same round run in the clear: a
// round's plan and each client's seeded training do not depend on secure aggregation, so each client's plain
// update is the one the clear run audited.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeRoundPlan, SECAGG_FEATURE, toUint8Array, type MaskedInput, type NamedTensor, type Update } from '@fedtl/protocol';
import {
  encryptShares,
  exportX25519PrivateKey,
  FixedPointCodec,
  generateMaskSeed,
  generateX25519KeyPair,
  packContribution,
  planSession,
  shareSecret,
  compareClientIds,
} from '@fedtl/privacy';
import { byteHistogram, chiSquareUniformity } from '@fedtl/privacy/testing';
import { precomputedBackboneRef, initialWeights } from '@fedtl/model';
import { useTestSandbox, waitUntil, writeSyntheticFeatureFiles, type TestSandbox } from '@fedtl/util/testing';
import { parseCoordinatorConfig } from './config';
import type { SecAggMessage } from './coordinator';
import type { RunStatusSnapshot } from './dashboard/run-status';
import { startCoordinator, type StartedCoordinator } from './run-coordinator';
import { FEATURE_DIM, maxAbsDifference, readAuditedUpdates, readCheckpointWeights, referenceFedAvg, startClientProcess } from './testing/federation-harness';
import { ProtocolClient } from './testing/protocol-client';
import { encodeAdvertiseKeys, encodeShareKeys, decodeKeyDirectory, encodeAck, emitWithAck } from '@fedtl/protocol';
import { SECAGG_METRIC_SLOTS } from './secagg/secagg-terms';

// A wider adapter than the other tests: a masked vector of ~1,650 words (6.6 kB) gives the uniformity test ~26
// bytes per histogram bucket.
const ADAPTER_WIDTH = 64;
const SEED = 11;
const TRAIN = [24, 40, 64, 32];
const SPEC = { inputDim: FEATURE_DIM, adapterWidth: ADAPTER_WIDTH, head: 'linear' as const, headHidden: 64, labels: ['a', 'b'] };

async function startInProcess(sandbox: TestSandbox, outDir: string, args: string[]): Promise<StartedCoordinator> {
  const config = parseCoordinatorConfig([
    '--port', '0', '--out-dir', outDir, '--backbone', `precomputed:${FEATURE_DIM}`, '--labels', 'a,b',
    '--adapter-width', String(ADAPTER_WIDTH), '--local-epochs', '2', '--batch-size', '16', '--learning-rate', '0.05',
    '--seed', String(SEED), '--rounds', '1', '--log-level', 'warn', ...args,
  ]);
  const started = await startCoordinator(config);
  sandbox.defer(() => started.stop());
  return started;
}

/** Records every secure-aggregation message the coordinator receives, with its sender, as it was handed over. */
function recordSecAgg(started: StartedCoordinator): Array<{ sender: string; message: SecAggMessage }> {
  const received: Array<{ sender: string; message: SecAggMessage }> = [];
  const original = started.coordinator.handleSecAggMessage.bind(started.coordinator);
  started.coordinator.handleSecAggMessage = (sender, message) => {
    received.push({ sender, message });
    return original(sender, message);
  };
  return received;
}

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / Math.sqrt(na * nb);
}

describe('secure aggregation', () => {
  const sandbox = useTestSandbox();
  /** Feature files and the reference run live across the tests: the reference is computed once. */
  let shared: string;
  let files: string[];
  /** The four clients' round-1 updates, from the same round run in the clear. */
  let plainUpdates: Update[];

  function startClients(url: string, count: number) {
    return files.slice(0, count).map((file, i) => startClientProcess(url, `client-${i + 1}`, file));
  }

  async function runClients(url: string, count: number): Promise<Array<number | string | null>> {
    const clients = startClients(url, count);
    sandbox.processes.push(...clients);
    return Promise.all(clients.map((c) => c.exited));
  }

  beforeAll(async () => {
    shared = await mkdtemp(join(tmpdir(), 'fedtl-secagg-'));
    files = await writeSyntheticFeatureFiles(shared, { clients: 4, dim: FEATURE_DIM, trainPerClient: TRAIN, testPerClient: 10, seed: 3 });
    // The same round in the clear, for reference (its audit trail holds each client's plain update).
    const outDir = join(shared, 'clear');
    const config = parseCoordinatorConfig(['--port', '0', '--out-dir', outDir, '--backbone', `precomputed:${FEATURE_DIM}`, '--labels', 'a,b', '--adapter-width', String(ADAPTER_WIDTH), '--local-epochs', '2', '--batch-size', '16', '--learning-rate', '0.05', '--seed', String(SEED), '--rounds', '1', '--log-level', 'warn', '--min-clients', '4', '--audit-dir', join(outDir, 'audit')]);
    const started = await startCoordinator(config);
    const clients = startClients(started.url, 4);
    try {
      expect(await Promise.all(clients.map((c) => c.exited))).toEqual([0, 0, 0, 0]);
      await started.finished;
    } finally {
      clients.forEach((c) => c.child.kill('SIGKILL'));
      await started.stop();
    }
    plainUpdates = await readAuditedUpdates(outDir, 1);
    expect(plainUpdates.map((u) => u.clientId)).toEqual(['client-1', 'client-2', 'client-3', 'client-4']);
  });

  afterAll(async () => {
    await rm(shared, { recursive: true, force: true });
  });

  it("shows the coordinator only uniform masked vectors and keys, and unmasks exactly the FedAvg of the clear round", async () => {
    const outDir = join(sandbox.dir, 'secure');
    const started = await startInProcess(sandbox, outDir, ['--min-clients', '4', '--secure-aggregation']);
    const received = recordSecAgg(started);
    expect(await runClients(started.url, 4)).toEqual([0, 0, 0, 0]);
    await started.finished;

    // 1. The sum: the checkpoint equals FedAvg of the plain updates, within the fixed-point step.
    const initial = initialWeights(SPEC, SEED);
    const expected = referenceFedAvg(initial, plainUpdates);
    expect(maxAbsDifference(await readCheckpointWeights(outDir, 1), expected)).toBeLessThan(1e-5);

    // 2. Each masked vector is indistinguishable from uniform over Z_2^32: chi-square over its bytes, each test
    // at significance 1e-4 (a false alarm in about 1 of 2,500 runs). The same test on the plain encoded update
    // (the control) rejects at p < 1e-10: it has the power to see an unmasked vector.
    const masked = received.filter((r) => r.message.kind === 'masked-input').map((r) => ({ sender: r.sender, input: r.message.body as MaskedInput }));
    expect(masked.map((m) => m.sender).sort()).toEqual(['client-1', 'client-2', 'client-3', 'client-4']);
    const codec = new FixedPointCodec({ fractionalBits: 22, clip: 100, maxSummands: 4 });
    const terms = { clip: 100, weightBound: 64, weightCap: 64, metricSlots: [...SECAGG_METRIC_SLOTS] };
    for (const { sender, input } of masked) {
      const test = chiSquareUniformity(byteHistogram(input.maskedVector));
      expect(test.pValue).toBeGreaterThan(1e-4);
      const plain = plainUpdates.find((u) => u.clientId === sender) as Update;
      const packed = packContribution({ deltas: plain.delta.map((t: NamedTensor) => t.data as Float32Array), numExamples: plain.numExamples, metrics: plain.metrics }, terms);
      const plainEncoded = codec.encode(packed.values).values;
      expect(chiSquareUniformity(byteHistogram(plainEncoded)).pValue).toBeLessThan(1e-10);
      // 3. Nothing of the update shows through: read as if it were the update, the masked vector is uncorrelated
      // with it (|cosine| < 0.15, about 6 standard deviations of a random vector of this length).
      const readAsUpdate = codec.decodeSum(input.maskedVector, 1);
      expect(Math.abs(cosine(readAsUpdate, packed.values))).toBeLessThan(0.15);
    }

    // 4. What else it received: public keys and ciphertexts, and for unmasking only self-mask seed shares (no
    // client dropped), never both secrets of one client.
    const kinds = received.flatMap((r) => (r.message.kind === 'unmask-shares' ? r.message.body.shares.map((s) => s.kind) : []));
    expect(new Set(kinds)).toEqual(new Set(['self-mask-seed']));
    expect(received.map((r) => r.message.kind).sort()).toEqual([...Array(4).fill('advertise'), ...Array(4).fill('masked-input'), ...Array(4).fill('shares'), ...Array(4).fill('unmask-shares')].sort());
  });

  it('gives FedAdam the same mean it acts on in the clear: the two runs end with the same weights', async () => {
    const flags = ['--min-clients', '4', '--strategy', 'fedadam', '--server-learning-rate', '0.05'];
    const clear = await startInProcess(sandbox, join(sandbox.dir, 'fedadam-clear'), flags);
    expect(await runClients(clear.url, 4)).toEqual([0, 0, 0, 0]);
    await clear.finished;
    const secure = await startInProcess(sandbox, join(sandbox.dir, 'fedadam-secure'), [...flags, '--secure-aggregation']);
    expect(await runClients(secure.url, 4)).toEqual([0, 0, 0, 0]);
    await secure.finished;
    const inTheClear = await readCheckpointWeights(join(sandbox.dir, 'fedadam-clear'), 1);
    expect(maxAbsDifference(await readCheckpointWeights(join(sandbox.dir, 'fedadam-secure'), 1), inTheClear)).toBeLessThan(1e-5);
    expect(maxAbsDifference(inTheClear, initialWeights(SPEC, SEED))).toBeGreaterThan(1e-3);
  });

  it('recovers a client that drops after sharing its keys: its mask key is rebuilt from the others’ shares, never its self mask', async () => {
    const outDir = join(sandbox.dir, 'dropout');
    const started = await startInProcess(sandbox, outDir, ['--min-clients', '4', '--min-available', '5', '--secure-aggregation', '--secagg-threshold', '3']);
    const received = recordSecAgg(started);
    // client-5 speaks the protocol up to its shares, then disconnects once the shares are delivered.
    const dropout = new ProtocolClient(started.url, 'client-5', precomputedBackboneRef(FEATURE_DIM));
    sandbox.defer(() => dropout.close());
    const keys = { encryption: generateX25519KeyPair(), mask: generateX25519KeyPair() };
    let context = { runId: '', round: 1, session: '' };
    let attempt = 1;
    dropout.socket.on('round-plan', (payload: unknown) => {
      const bytes = toUint8Array(payload);
      const plan = decodeRoundPlan(bytes);
      context = { runId: plan.runId, round: plan.round, session: planSession(bytes) };
      attempt = plan.secureAggregation?.attempt ?? 1;
      const advertise = encodeAdvertiseKeys({ ...context, attempt, clientId: 'client-5', encryptionPublicKey: keys.encryption.publicKey, maskPublicKey: keys.mask.publicKey });
      void emitWithAck(dropout.socket as never, 'secagg-advertise', advertise, 10_000);
    });
    dropout.socket.on('secagg-keys', (payload: unknown, ack: (reply: Uint8Array) => void) => {
      ack(encodeAck({ ok: true }));
      const directory = decodeKeyDirectory(payload);
      const ids = directory.clients.map((c) => c.clientId).sort(compareClientIds);
      void (async () => {
        const t = 3;
        const selfShares = await shareSecret(generateMaskSeed(), ids.length, t);
        const keyShares = await shareSecret(exportX25519PrivateKey(keys.mask.privateKey), ids.length, t);
        const recipients = ids.flatMap((id, i) => {
          if (id === 'client-5') return [];
          const peer = directory.clients.find((c) => c.clientId === id) as (typeof directory.clients)[number];
          return [{ id, encryptionPublicKey: peer.encryptionPublicKey, selfMaskShare: selfShares[i], secretKeyShare: keyShares[i] }];
        });
        const shares = encryptShares({ context, senderId: 'client-5', senderEncryptionKey: keys.encryption.privateKey, recipients });
        await emitWithAck(dropout.socket as never, 'secagg-shares', encodeShareKeys({ ...context, attempt, clientId: 'client-5', shares }), 10_000);
      })();
    });
    dropout.socket.on('secagg-share-delivery', (_payload: unknown, ack: (reply: Uint8Array) => void) => {
      ack(encodeAck({ ok: true }));
      dropout.socket.disconnect();
    });
    expect((await dropout.join({ numTrainExamples: 40, features: [SECAGG_FEATURE] })).ok).toBe(true);
    expect(await runClients(started.url, 4)).toEqual([0, 0, 0, 0]);
    await started.finished;

    const initial = initialWeights(SPEC, SEED);
    expect(maxAbsDifference(await readCheckpointWeights(outDir, 1), referenceFedAvg(initial, plainUpdates))).toBeLessThan(1e-5);
    const unmasking = received.filter((r) => r.message.kind === 'unmask-shares').map((r) => r.message.body as { shares: Array<{ ownerId: string; kind: string }> });
    expect(unmasking).toHaveLength(4);
    for (const answer of unmasking) {
      expect(answer.shares.filter((s) => s.ownerId === 'client-5').map((s) => s.kind)).toEqual(['mask-private-key']);
      expect(answer.shares.filter((s) => s.kind === 'self-mask-seed').map((s) => s.ownerId).sort()).toEqual(['client-1', 'client-2', 'client-3', 'client-4']);
    }
  });

  it('re-runs a round interrupted by a coordinator restart with fresh keys, and finishes it', async () => {
    const outDir = join(sandbox.dir, 'restart');
    const first = await startInProcess(sandbox, outDir, ['--min-clients', '2', '--secure-aggregation']);
    const port = new URL(first.url).port;
    const keysSeen: string[] = [];
    let interrupted!: () => void;
    const advertisedTwice = new Promise<void>((resolve) => (interrupted = resolve));
    const record = (started: StartedCoordinator) => {
      const original = started.coordinator.handleSecAggMessage.bind(started.coordinator);
      started.coordinator.handleSecAggMessage = (sender, message) => {
        if (message.kind === 'advertise') {
          keysSeen.push(`${sender}:${Buffer.from(message.body.maskPublicKey).toString('hex')}`);
          if (keysSeen.length === 2) interrupted();
        }
        return original(sender, message);
      };
    };
    record(first);
    const clients = startClients(first.url, 2);
    sandbox.processes.push(...clients);
    await advertisedTwice;
    // Both clients advertised round 1's keys: the coordinator goes away mid-round (no verdict, no checkpoint)…
    await first.stop();
    // …and comes back on the same address; the clients reconnect, and round 1 runs again from the start.
    const second = await startInProcess(sandbox, outDir, ['--min-clients', '2', '--secure-aggregation', '--port', port]);
    record(second);
    expect(await Promise.all(clients.map((c) => c.exited))).toEqual([0, 0]);
    await second.finished;
    expect(keysSeen).toHaveLength(4);
    // Four different mask keys: nothing of the interrupted attempt is reused.
    expect(new Set(keysSeen.map((k) => k.split(':')[1])).size).toBe(4);
    expect(await readCheckpointWeights(outDir, 1)).toBeDefined();
  });

  it("refuses at Join a client whose policy the run can never meet, shows why, and runs on without it", async () => {
    const outDir = join(sandbox.dir, 'policy-join');
    // A coordinator choosing the leakiest batch size: one example per step. A careful client never accepts it.
    const started = await startInProcess(sandbox, outDir, ['--min-clients', '1', '--min-available', '1', '--batch-size', '1']);
    const careful = startClientProcess(started.url, 'client-2', files[1], ['--min-batch-size', '16']);
    sandbox.processes.push(careful);
    expect(await careful.exited).toBe(2);
    expect(careful.output()).toContain("accepts plans with a batch size of at least 16 (--min-batch-size); this run's batch size is 1");
    const status = (await (await fetch(`${started.url}/api/status`)).json()) as RunStatusSnapshot;
    expect(status.refusedJoins).toEqual([expect.objectContaining({ clientId: 'client-2', code: 'FEDTL_ERR_POLICY_REFUSED' })]);
    expect(status.counters.joinRefusalsByCode).toEqual({ FEDTL_ERR_POLICY_REFUSED: 1 });
    const plain = startClientProcess(started.url, 'client-1', files[0]);
    sandbox.processes.push(plain);
    expect(await plain.exited).toBe(0);
    await started.finished;
  });

  it("records a plan a client's policy refuses, with its code, and names it in the verdict", async () => {
    const outDir = join(sandbox.dir, 'policy-plan');
    // Two clients a round: t = 2. client-2 wants its update summed with at least 2 others (t >= 3), which a round
    // of two cannot give: it states so at Join, is admitted (more clients could come), and refuses the plan.
    const started = await startInProcess(sandbox, outDir, ['--min-clients', '2', '--secure-aggregation', '--max-round-attempts', '1']);
    const careful = startClientProcess(started.url, 'client-2', files[1], ['--min-other-contributors', '2']);
    const plain = startClientProcess(started.url, 'client-1', files[0]);
    sandbox.processes.push(careful, plain);
    await waitUntil(() => started.coordinator.registry.has('client-2'), 60_000, 'client-2 to join');
    expect(started.coordinator.registry.get('client-2')?.join.privacyPolicy).toMatchObject({ minOtherContributors: 2, requireSecureAggregation: false });
    expect(await Promise.all([plain.exited, careful.exited])).toEqual([1, 1]);
    await expect(started.finished).rejects.toMatchObject({ code: 'FEDTL_ERR_QUORUM_NOT_MET', message: expect.stringContaining('client-2 (FEDTL_ERR_POLICY_REFUSED)') });
    const records = (await readFile(join(outDir, 'metrics.jsonl'), 'utf8')).split('\n').filter(Boolean).map((line) => JSON.parse(line));
    expect(records[0].failures).toContainEqual(
      expect.objectContaining({ clientId: 'client-2', code: 'FEDTL_ERR_POLICY_REFUSED', message: expect.stringContaining('expected a secure-aggregation threshold of at least 3') }),
    );
  });

  it('refuses at Join a client that does not implement secure aggregation, with a code that says so', async () => {
    const started = await startInProcess(sandbox, join(sandbox.dir, 'old-client'), ['--min-clients', '2', '--secure-aggregation']);
    const old = new ProtocolClient(started.url, 'old-client', precomputedBackboneRef(FEATURE_DIM));
    sandbox.defer(() => old.close());
    const reply = await old.join();
    expect(reply.ok).toBe(false);
    expect(!reply.ok && reply.error.code).toBe('FEDTL_ERR_SECAGG_UNSUPPORTED');
    expect(!reply.ok && reply.error.message).toContain('expected a client whose Join lists the feature "secagg/v1"');
  });
});
