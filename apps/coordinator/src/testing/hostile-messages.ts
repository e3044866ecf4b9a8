// Test support: fast-check arbitraries of hostile protocol messages, for fuzzing a live coordinator.
//
// Each arbitrary yields a *recipe* (plain data, so fast-check can print and shrink it); `buildHostileMessage`
// turns a recipe and the round plan in progress into what goes over the socket. Every recipe is hostile by
// construction: none may be a message an honest client could send, so a coordinator that bounds what it
// trusts must refuse all of them and the round's aggregate must be the honest clients' alone. Messages a
// bounded coordinator would accept after clipping (a finite but huge delta with the right run and round) are
// left out on purpose: they are the norm bound's business (bounds tests), not the fuzz's.
import fc from 'fast-check';
import {
  PROTOCOL_VERSION,
  encodeError,
  encodeEvaluateReport,
  encodeJoin,
  encodeUpdate,
  type BackboneRef,
  type NamedTensor,
  type RoundPlan,
} from '@fedtl/protocol';
import { SPARSE_FAULTS, encodeHostileSparseUpdate, type SparseFault } from '@fedtl/protocol/testing';

/** Who sends: `joined` is a client admitted to the run (selected every round); `stranger` never joined. */
export type Sender = 'joined' | 'stranger';

/** How a structurally valid Update is made hostile; at least one of these holds for every recipe. */
export interface UpdateFaults {
  wrongRun: boolean;
  /** Added to the plan's round (0: the right round). */
  roundOffset: number;
  /** Another client's id in the update (the sender stays who it is). */
  impersonate: string | null;
  tensorFault: 'none' | 'nan' | 'infinity' | 'unknown-name' | 'wrong-shape' | 'missing' | 'repeated' | 'int32';
  /** 0 or a count above what the sender declared at join. */
  badExamples: number | null;
  /** Metric names and values that no client sends. */
  badMetrics: Record<string, number> | null;
}

export type HostileRecipe =
  | { kind: 'garbage'; sender: Sender; event: string; bytes: Uint8Array }
  | { kind: 'not-binary'; sender: Sender; event: string; payload: unknown; withAck: boolean }
  | { kind: 'update'; sender: Sender; faults: UpdateFaults }
  | { kind: 'mutated-update'; sender: Sender; flips: Array<{ at: number; xor: number }>; truncateTo: number | null }
  /** A right-run, right-round update whose first tensor is sparse and breaks the layout (indices, counts, sizes). */
  | { kind: 'sparse-update'; sender: Sender; fault: SparseFault }
  | { kind: 'join'; fault: 'version' | 'backbone' | 'labels' | 'bad-id' | 'huge-id' | 'token' | 'zero-examples' | 'duplicate' }
  | { kind: 'report'; sender: Sender; metrics: Record<string, number>; numExamples: number; labels: string[] }
  | { kind: 'round-failed'; sender: 'stranger'; message: string }
  | { kind: 'unknown-event'; sender: Sender; event: string; bytes: Uint8Array };

/** The events a client may emit; the fuzz also sends them with the wrong payloads. */
export const CLIENT_EVENTS = ['join', 'update', 'evaluate-report', 'round-failed', 'evaluate-failed', 'secagg-advertise', 'secagg-shares', 'secagg-masked-input', 'secagg-unmask-shares'] as const;

/** Names Socket.IO reserves on the client side: emitting them throws locally instead of reaching the server. */
const RESERVED_EVENTS = new Set(['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener']);

const sender = fc.constantFrom<Sender>('joined', 'stranger');
const event = fc.constantFrom(...CLIENT_EVENTS);
const smallBytes = fc.uint8Array({ maxLength: 2048 });
const hugeNumber = fc.constantFrom(1e300, -1e300, Number.MAX_VALUE, NaN, Infinity, -Infinity, -1, 7.5, 2 ** 40);

const updateFaults: fc.Arbitrary<UpdateFaults> = fc
  .record({
    wrongRun: fc.boolean(),
    roundOffset: fc.oneof(fc.constant(0), fc.integer({ min: -3, max: 3 }), fc.constant(1_000_000)),
    impersonate: fc.option(fc.constantFrom('good-1', 'good-2', 'nobody', 'x'.repeat(64)), { nil: null }),
    tensorFault: fc.constantFrom('none', 'nan', 'infinity', 'unknown-name', 'wrong-shape', 'missing', 'repeated', 'int32'),
    badExamples: fc.option(fc.constantFrom(0, 41, 1_000_000, 4294967295), { nil: null }),
    badMetrics: fc.option(fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }), hugeNumber, { minKeys: 1, maxKeys: 8 }), { nil: null }),
  })
  .filter(isHostileUpdate);

/** True when at least one fault makes the update one an honest client never sends. */
export function isHostileUpdate(f: UpdateFaults): boolean {
  return f.wrongRun || f.roundOffset !== 0 || f.impersonate !== null || f.tensorFault !== 'none' || f.badExamples !== null || f.badMetrics !== null;
}

/** Any hostile message, weighted towards the structured ones (random bytes rarely get past the decoder). */
export const hostileRecipe: fc.Arbitrary<HostileRecipe> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('garbage' as const), sender, event, bytes: smallBytes }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('not-binary' as const), sender, event, payload: fc.jsonValue({ maxDepth: 2 }), withAck: fc.boolean() }),
  },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('update' as const), sender, faults: updateFaults }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('mutated-update' as const),
      sender,
      flips: fc.array(fc.record({ at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }), { minLength: 1, maxLength: 8 }),
      truncateTo: fc.option(fc.nat(), { nil: null }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('sparse-update' as const), sender, fault: fc.constantFrom(...SPARSE_FAULTS) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('join' as const),
      fault: fc.constantFrom('version', 'backbone', 'labels', 'bad-id', 'huge-id', 'token', 'zero-examples', 'duplicate'),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('report' as const),
      sender,
      metrics: fc.dictionary(fc.constantFrom('accuracy', 'macroF1', 'loss', 'made-up'), hugeNumber, { maxKeys: 4 }),
      numExamples: fc.constantFrom(0, 5, 1_000_000),
      labels: fc.array(fc.constantFrom('a', 'b', 'zzz', '\u0000'), { maxLength: 3 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('round-failed' as const), sender: fc.constant('stranger' as const), message: fc.string({ maxLength: 64 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('unknown-event' as const),
      sender,
      event: fc.string({ minLength: 1, maxLength: 24 }).filter((name) => !RESERVED_EVENTS.has(name) && !(CLIENT_EVENTS as readonly string[]).includes(name)),
      bytes: smallBytes,
    }),
  },
);

/** What to emit for a recipe: an event name, its arguments and whether the last one is an acknowledgement. */
export interface HostileMessage {
  sender: Sender;
  event: string;
  payload: unknown;
  withAck: boolean;
}

export interface FuzzContext {
  plan: RoundPlan;
  joinedId: string;
  /** Ids of live honest clients (a duplicate join names one of them). */
  honestIds: readonly string[];
  backbone: BackboneRef;
  token: string;
  labels: string[];
}

function faultyDelta(weights: readonly NamedTensor[], fault: UpdateFaults['tensorFault']): NamedTensor[] {
  const zeros = weights.map((t) => ({ name: t.name, shape: [...t.shape], dtype: t.dtype, data: new Float32Array(t.data.length) }) as NamedTensor);
  const first = zeros[0];
  switch (fault) {
    case 'none':
      return zeros;
    case 'nan':
      return [{ ...first, data: new Float32Array(first.data.length).fill(NaN) }, ...zeros.slice(1)];
    case 'infinity':
      return [{ ...first, data: new Float32Array(first.data.length).fill(Infinity) }, ...zeros.slice(1)];
    case 'unknown-name':
      return [{ ...first, name: 'backbone/secret' }, ...zeros.slice(1)];
    case 'wrong-shape':
      return [{ ...first, shape: [first.data.length] }, ...zeros.slice(1)];
    case 'missing':
      return zeros.slice(1);
    case 'repeated':
      return [...zeros, zeros[0]];
    case 'int32':
      return [{ ...first, dtype: 'int32', data: new Int32Array(first.data.length) }, ...zeros.slice(1)];
  }
}

function hostileUpdateBytes(context: FuzzContext, faults: UpdateFaults): Uint8Array {
  return encodeUpdate({
    runId: faults.wrongRun ? '00000000-0000-4000-8000-000000000000' : context.plan.runId,
    round: Math.max(0, context.plan.round + faults.roundOffset),
    clientId: faults.impersonate ?? context.joinedId,
    delta: faultyDelta(context.plan.weights, faults.tensorFault),
    numExamples: faults.badExamples ?? 10,
    metrics: faults.badMetrics ?? {},
  });
}

/** The bytes and event for `recipe` in the round `context.plan`. */
export function buildHostileMessage(recipe: HostileRecipe, context: FuzzContext): HostileMessage {
  switch (recipe.kind) {
    case 'garbage':
      return { sender: recipe.sender, event: recipe.event, payload: recipe.bytes, withAck: true };
    case 'not-binary':
      return { sender: recipe.sender, event: recipe.event, payload: recipe.payload, withAck: recipe.withAck };
    case 'update':
      return { sender: recipe.sender, event: 'update', payload: hostileUpdateBytes(context, recipe.faults), withAck: true };
    case 'mutated-update': {
      // Mutations of an update for another run: whatever still decodes is refused as another run's.
      const bytes = hostileUpdateBytes(context, { wrongRun: true, roundOffset: 0, impersonate: null, tensorFault: 'none', badExamples: null, badMetrics: null }).slice();
      for (const { at, xor } of recipe.flips) bytes[at % bytes.length] ^= xor;
      const payload = recipe.truncateTo === null ? bytes : bytes.subarray(0, recipe.truncateTo % bytes.length);
      return { sender: recipe.sender, event: 'update', payload, withAck: true };
    }
    case 'sparse-update': {
      // Everything right but the sparse layout: one non-zero value, so an honest sparse tensor would be accepted.
      const delta = faultyDelta(context.plan.weights, 'none');
      (delta[0].data as Float32Array)[1] = 0.5;
      const update = { runId: context.plan.runId, round: context.plan.round, clientId: context.joinedId, delta, numExamples: 10, metrics: {} };
      return { sender: recipe.sender, event: 'update', payload: encodeHostileSparseUpdate(update, recipe.fault), withAck: true };
    }
    case 'join':
      return { sender: 'stranger', event: 'join', payload: hostileJoinBytes(context, recipe.fault), withAck: true };
    case 'report':
      return {
        sender: recipe.sender,
        event: 'evaluate-report',
        payload: encodeEvaluateReport({
          runId: context.plan.runId,
          round: context.plan.round,
          clientId: context.joinedId,
          numExamples: recipe.numExamples,
          metrics: recipe.metrics,
          perLabel: Object.fromEntries(recipe.labels.map((label) => [label, { support: 3, correct: 5 }])),
        }),
        withAck: true,
      };
    case 'round-failed':
      return { sender: 'stranger', event: 'round-failed', payload: encodeError({ code: 'FEDTL_ERR_INTERNAL', message: recipe.message }), withAck: true };
    case 'unknown-event':
      return { sender: recipe.sender, event: recipe.event, payload: recipe.bytes, withAck: true };
  }
}

function hostileJoinBytes(context: FuzzContext, fault: Extract<HostileRecipe, { kind: 'join' }>['fault']): Uint8Array {
  const join = {
    clientId: 'newcomer',
    token: context.token,
    protocolVersion: PROTOCOL_VERSION,
    backbone: context.backbone,
    labels: context.labels,
    numTrainExamples: 40,
    numTestExamples: 10,
  };
  switch (fault) {
    case 'version':
      return encodeJoin({ ...join, protocolVersion: PROTOCOL_VERSION + 1 });
    case 'backbone':
      return encodeJoin({ ...join, backbone: { ...context.backbone, contentHash: 'f'.repeat(64) } });
    case 'labels':
      return encodeJoin({ ...join, labels: [...context.labels, 'not-a-label'] });
    case 'bad-id':
      return encodeJoin({ ...join, clientId: 'evil\nid' });
    case 'huge-id':
      return encodeJoin({ ...join, clientId: 'x'.repeat(100_000) });
    case 'token':
      return encodeJoin({ ...join, token: 'wrong-token-wrong-token' });
    case 'zero-examples':
      return encodeJoin({ ...join, numTrainExamples: 0 });
    case 'duplicate':
      return encodeJoin({ ...join, clientId: context.honestIds[0] });
  }
}
