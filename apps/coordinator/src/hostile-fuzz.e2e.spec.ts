// Property-based fuzz of a live coordinator: 10,000 hostile messages (fast-check recipes from
// testing/hostile-messages.ts) over real sockets, from a client admitted to the run ("mallory") and from a
// connection that never joined, while an honest federation runs beside them: two client processes and a
// scripted honest client ("steady") that answers each round only once that round's share of the fuzz is sent,
// so every message lands while a round is open. Every request must be answered with a refusal that carries a
// catalogue code, and every round's new weights must be exactly FedAvg of the three honest updates.
import { join } from 'node:path';
import fc from 'fast-check';
import { io, type Socket } from 'socket.io-client';
import { initialWeights, precomputedBackboneRef } from '@fedtl/model';
import { decodeAck, decodeJoinReply, emitWithAck } from '@fedtl/protocol';
import { configureLogging, isErrorCode } from '@fedtl/util';
import { useTestSandbox, writeSyntheticFeatureFiles } from '@fedtl/util/testing';
import { FEATURE_DIM, maxAbsDifference, readAuditedUpdates, readCheckpointWeights, referenceFedAvg, startClientProcess, startScriptedFederation, HARNESS_SPEC } from './testing/federation-harness';
import { buildHostileMessage, hostileRecipe, type FuzzContext, type HostileMessage } from './testing/hostile-messages';

const ROUNDS = 2;
const MESSAGES = 10_000;
const TOKEN = 'fuzz-federation-token-0123456789';
const backbone = precomputedBackboneRef(FEATURE_DIM);

describe('a live coordinator under 10,000 hostile messages', () => {
  const sandbox = useTestSandbox();

  beforeAll(() => configureLogging({ level: 'silent' }));

  it('refuses every one with a catalogue code while the honest federation gets exactly FedAvg of its updates', async () => {
    const outDir = join(sandbox.dir, 'out');
    const { started, client } = await startScriptedFederation(sandbox, [
      '--token', TOKEN, '--rounds', String(ROUNDS), '--min-clients', '3', '--min-available', '4',
      '--round-timeout-ms', '600000', '--eval-timeout-ms', '600000',
    ]);
    const scripted = (id: string) => client(id, { token: TOKEN });
    const mallory = scripted('mallory');
    const steady = scripted('steady');
    expect((await mallory.join()).ok).toBe(true);
    expect((await steady.join()).ok).toBe(true);
    const stranger: Socket = io(started.url, {
      transports: ['websocket'], reconnection: false, forceNew: true, auth: { token: TOKEN }, extraHeaders: { authorization: `Bearer ${TOKEN}` },
    });
    sandbox.defer(() => stranger.disconnect());

    const files = await writeSyntheticFeatureFiles(sandbox.dir, { clients: 2, dim: FEATURE_DIM, trainPerClient: 40, testPerClient: 20, seed: 9 });
    const processIds = ['good-1', 'good-2'];
    processIds.forEach((id, i) => sandbox.processes.push(startClientProcess(started.url, id, files[i], ['--token', TOKEN])));

    const unanswered: HostileMessage[] = [];
    let sent = 0;
    for (let round = 1; round <= ROUNDS; round++) {
      const plan = await steady.nextPlan(round);
      const context: FuzzContext = { plan, joinedId: 'mallory', honestIds: processIds, backbone, token: TOKEN, labels: ['a', 'b'] };
      await fc.assert(
        fc.asyncProperty(hostileRecipe, async (recipe) => {
          const message = buildHostileMessage(recipe, context);
          const socket = message.sender === 'joined' ? mallory.socket : stranger;
          sent++;
          if (!message.withAck) {
            socket.emit(message.event, message.payload);
            return;
          }
          const reply = await emitWithAck(socket as never, message.event as 'update', message.payload as Uint8Array, 60_000).catch(() => undefined);
          if (reply === undefined) {
            unanswered.push(message);
            return;
          }
          const answer = message.event === 'join' ? decodeJoinReply(reply) : decodeAck(reply);
          const code = answer.ok ? 'accepted' : answer.error?.code;
          expect([recipe.kind, code, isErrorCode(code)]).toEqual([recipe.kind, code, true]);
        }),
        { numRuns: MESSAGES / ROUNDS, seed: 20261130 + round, endOnFailure: true },
      );
      // The round's fuzz is sent: the honest scripted client answers, mallory gives up on the round.
      expect(await steady.sendUpdate(plan, undefined, 40)).toBe('accepted');
      expect(await mallory.sendRoundFailed('the fuzz is done with this round')).toBe('accepted');
    }
    const summary = await started.finished;

    expect(sent).toBe(MESSAGES);
    expect(unanswered).toEqual([]);
    expect([mallory.errors, steady.errors]).toEqual([[], []]);
    expect(summary.roundsCompleted).toBe(ROUNDS);
    expect(mallory.socket.connected || mallory.verdict?.status).toBeTruthy();
    let previous = initialWeights(HARNESS_SPEC, 5);
    for (let round = 1; round <= ROUNDS; round++) {
      const updates = await readAuditedUpdates(outDir, round);
      expect(updates.map((u) => u.clientId)).toEqual([...processIds, 'steady']);
      const actual = await readCheckpointWeights(outDir, round);
      expect(maxAbsDifference(actual, referenceFedAvg(previous, updates))).toBeLessThan(1e-6);
      previous = actual;
    }
  }, 900_000);
});
