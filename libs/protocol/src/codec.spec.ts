import path from 'node:path';
import * as protobuf from 'protobufjs';
import { type ErrorCode, FedtlError, seededRandom } from '@fedtl/util';
import {
  decodeAck,
  decodeError,
  decodeEvaluateReport,
  decodeEvaluateRequest,
  decodeJoin,
  decodeJoinReply,
  decodeRoundPlan,
  decodeRunEnd,
  decodeUpdate,
  decodeWelcome,
  encodeAck,
  encodeError,
  encodeEvaluateReport,
  encodeEvaluateRequest,
  encodeJoin,
  encodeJoinReply,
  encodeRoundPlan,
  encodeRunEnd,
  encodeUpdate,
  encodeWelcome,
} from './codec';
import {
  sampleEvaluateReport,
  sampleEvaluateRequest,
  sampleJoin,
  sampleRoundPlan,
  sampleUpdate,
  sampleWelcome,
} from './testing/fixtures';
import { SPARSE_LAYOUT_FAULTS, encodeHostileSparseUpdate, type SparseLayoutFault } from './testing/hostile-sparse';
import type { NamedTensor, Update } from './domain';
import { fedtl } from './generated/fedtl';

const PROTO_ROOT = path.resolve(__dirname, '../../../proto');

/** The .proto sources loaded by reflection: lets a test write messages the codec itself would refuse to. */
const protoSources = (() => {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => path.join(PROTO_ROOT, target);
  return root.loadSync(['fedtl/v1/session.proto', 'fedtl/v1/round.proto', 'fedtl/v1/evaluate.proto', 'fedtl/v1/run.proto']);
})();

function rawMessage(name: string, fields: Record<string, unknown>): Uint8Array {
  return protoSources.lookupType(`fedtl.v1.${name}`).encode(fields).finish();
}

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw, got a return');
}

function expectFedtlError(fn: () => unknown, code: ErrorCode, message?: RegExp): void {
  const err = caught(fn);
  expect(err).toBeInstanceOf(FedtlError);
  expect((err as FedtlError).code).toBe(code);
  if (message) expect((err as FedtlError).message).toMatch(message);
}

describe('codec round trips', () => {
  it('Join', () => {
    expect(decodeJoin(encodeJoin(sampleJoin))).toEqual(sampleJoin);
  });

  it('Welcome', () => {
    expect(decodeWelcome(encodeWelcome(sampleWelcome))).toEqual(sampleWelcome);
  });

  it('JoinReply with a welcome and with an error', () => {
    const admitted = { ok: true as const, welcome: sampleWelcome };
    expect(decodeJoinReply(encodeJoinReply(admitted))).toEqual(admitted);
    const refused = {
      ok: false as const,
      error: { code: 'FEDTL_ERR_BACKBONE_MISMATCH' as const, message: 'expected backbone hash aaaa, got bbbb' },
    };
    expect(decodeJoinReply(encodeJoinReply(refused))).toEqual(refused);
  });

  it('RoundPlan with a multi-tensor weight set', () => {
    const plan = sampleRoundPlan();
    const decoded = decodeRoundPlan(encodeRoundPlan(plan));
    expect(decoded).toEqual(plan);
    expect(decoded.weights[0].data).toBeInstanceOf(Float32Array);
    expect(decoded.weights[6].data).toBeInstanceOf(Int32Array);
  });

  it('RoundPlan with and without a FedProx proximal mu', () => {
    const plan = sampleRoundPlan();
    const withMu = { ...plan, config: { ...plan.config, proximalMu: 0.25 } };
    expect(decodeRoundPlan(encodeRoundPlan(withMu))).toEqual(withMu);
    // Absent and 0 both mean "no term": 0 is not put on the wire, so a FedAvg plan is byte-identical to before.
    const zero = { ...plan, config: { ...plan.config, proximalMu: 0 } };
    expect(encodeRoundPlan(zero)).toEqual(encodeRoundPlan(plan));
    expect(decodeRoundPlan(encodeRoundPlan(zero)).config).not.toHaveProperty('proximalMu');
    for (const bad of [-0.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => encodeRoundPlan({ ...plan, config: { ...plan.config, proximalMu: bad } })).toThrow(
        /config\.proximalMu: expected a finite number ≥ 0/,
      );
    }
  });

  it.each([
    [-0.5, '-0.5'],
    [Number.NaN, 'NaN'],
    [Number.POSITIVE_INFINITY, 'Infinity'],
    [Number.NEGATIVE_INFINITY, '-Infinity'],
  ])('refuses a RoundPlan whose proximalMu is %s', (mu, shown) => {
    const config = { localEpochs: 1, batchSize: 8, learningRate: 0.1, optimizer: 1, seed: 1, proximalMu: mu };
    expectFedtlError(
      () => decodeRoundPlan(rawMessage('RoundPlan', { runId: 'r', round: 1, config })),
      'FEDTL_ERR_MALFORMED_MESSAGE',
      new RegExp(`RoundPlan\\.config\\.proximalMu: expected a finite number ≥ 0, got ${shown.replace('.', '\\.')}`),
    );
  });

  it('RoundPlan with a Per-FedAvg inner learning rate, and never together with a proximal mu', () => {
    const plan = sampleRoundPlan();
    const meta = { ...plan, config: { ...plan.config, metaInnerLearningRate: 0.02 } };
    expect(decodeRoundPlan(encodeRoundPlan(meta))).toEqual(meta);
    expect(encodeRoundPlan({ ...plan, config: { ...plan.config, metaInnerLearningRate: 0 } })).toEqual(encodeRoundPlan(plan));
    expect(() => encodeRoundPlan({ ...plan, config: { ...plan.config, metaInnerLearningRate: -1 } })).toThrow(
      /config\.metaInnerLearningRate: expected a finite number ≥ 0, got -1/,
    );
    for (const [value, shown] of [[Number.NaN, 'NaN'], [-0.1, '-0\\.1']] as const) {
      const config = { localEpochs: 1, batchSize: 8, learningRate: 0.1, optimizer: 1, seed: 1, metaInnerLearningRate: value };
      expectFedtlError(
        () => decodeRoundPlan(rawMessage('RoundPlan', { runId: 'r', round: 1, config })),
        'FEDTL_ERR_MALFORMED_MESSAGE',
        new RegExp(`RoundPlan\\.config\\.metaInnerLearningRate: expected a finite number ≥ 0, got ${shown}`),
      );
    }
    const both = { localEpochs: 1, batchSize: 8, learningRate: 0.1, optimizer: 1, seed: 1, proximalMu: 0.1, metaInnerLearningRate: 0.02 };
    expectFedtlError(
      () => decodeRoundPlan(rawMessage('RoundPlan', { runId: 'r', round: 1, config: both })),
      'FEDTL_ERR_MALFORMED_MESSAGE',
      /metaInnerLearningRate: expected no Per-FedAvg step together with a FedProx proximalMu, got 0\.02 with proximalMu 0\.1/,
    );
  });

  it('RoundPlan with differential-privacy terms: each round-trips, 0 stays off the wire, a bad value or pairing is malformed', () => {
    const plan = sampleRoundPlan();
    const recordLevel = { ...plan, config: { ...plan.config, recordClipNorm: 1.5, recordNoiseMultiplier: 0.9 } };
    const clientLevel = { ...plan, config: { ...plan.config, updateClipNorm: 0.3, updateNoiseStddev: 0.02 } };
    expect(decodeRoundPlan(encodeRoundPlan(recordLevel))).toEqual(recordLevel);
    expect(decodeRoundPlan(encodeRoundPlan(clientLevel))).toEqual(clientLevel);
    expect(encodeRoundPlan({ ...plan, config: { ...plan.config, recordClipNorm: 0, updateClipNorm: 0 } })).toEqual(encodeRoundPlan(plan));
    const base = { localEpochs: 1, batchSize: 8, learningRate: 0.1, optimizer: 1, seed: 1 };
    for (const [extra, message] of [
      [{ recordClipNorm: -1 }, /config\.recordClipNorm: expected a finite number ≥ 0, got -1/],
      [{ recordClipNorm: 1, recordNoiseMultiplier: Number.NaN }, /config\.recordNoiseMultiplier: expected a finite number ≥ 0, got NaN/],
      [{ updateClipNorm: Number.POSITIVE_INFINITY }, /config\.updateClipNorm: expected a finite number ≥ 0, got Infinity/],
      [{ recordNoiseMultiplier: 1 }, /recordNoiseMultiplier: expected a DP-SGD noise multiplier only with a recordClipNorm > 0, got 1 without one/],
      [{ updateNoiseStddev: 0.1 }, /updateNoiseStddev: expected client-level noise only with an updateClipNorm > 0, got 0\.1 without one/],
      [{ recordClipNorm: 1, proximalMu: 0.1 }, /recordClipNorm: expected DP-SGD without a FedProx term or a Per-FedAvg step, got recordClipNorm 1 with proximalMu 0\.1/],
      [{ recordClipNorm: 1, metaInnerLearningRate: 0.2 }, /got recordClipNorm 1 with metaInnerLearningRate 0\.2/],
    ] as const) {
      expectFedtlError(() => decodeRoundPlan(rawMessage('RoundPlan', { runId: 'r', round: 1, config: { ...base, ...extra } })), 'FEDTL_ERR_MALFORMED_MESSAGE', message);
    }
  });

  it('refuses a RoundPlan that trains on batches of 0 examples or for 0 epochs, on both sides of the wire', () => {
    // A hostile plan with batchSize 0 made the client's DP-SGD accounting throw (q = 0, steps = ∞); no plan
    // trains on nothing, so such a config is malformed, named with what was expected and what came.
    const plan = sampleRoundPlan();
    const base = { localEpochs: 1, batchSize: 8, learningRate: 0.1, optimizer: 1, seed: 1, recordClipNorm: 1, recordNoiseMultiplier: 1 };
    for (const field of ['batchSize', 'localEpochs'] as const) {
      for (const config of [{ ...base, [field]: 0 }, Object.fromEntries(Object.entries(base).filter(([key]) => key !== field))]) {
        expectFedtlError(
          () => decodeRoundPlan(rawMessage('RoundPlan', { runId: 'r', round: 1, config })),
          'FEDTL_ERR_MALFORMED_MESSAGE',
          new RegExp(`^RoundPlan\\.config\\.${field}: expected a positive integer, got 0$`),
        );
      }
      expect(() => encodeRoundPlan({ ...plan, config: { ...plan.config, [field]: 0 } })).toThrow(
        new RegExp(`config\\.${field}: expected an integer in \\[1, 4294967295\\], got 0`),
      );
    }
    expect(decodeRoundPlan(encodeRoundPlan({ ...plan, config: { ...plan.config, batchSize: 1, localEpochs: 1 } })).config).toMatchObject({ batchSize: 1, localEpochs: 1 });
  });

  it('Update with metrics', () => {
    const update = sampleUpdate();
    expect(decodeUpdate(encodeUpdate(update))).toEqual(update);
  });

  it('EvaluateRequest', () => {
    const request = sampleEvaluateRequest();
    expect(decodeEvaluateRequest(encodeEvaluateRequest(request))).toEqual(request);
  });

  it('EvaluateReport with per-label counts', () => {
    expect(decodeEvaluateReport(encodeEvaluateReport(sampleEvaluateReport))).toEqual(sampleEvaluateReport);
  });

  it('Ack, ok and with an error', () => {
    expect(decodeAck(encodeAck({ ok: true }))).toEqual({ ok: true });
    const refused = {
      ok: false,
      error: { code: 'FEDTL_ERR_WRONG_ROUND' as const, message: 'expected round 4, got round 3' },
    };
    expect(decodeAck(encodeAck(refused))).toEqual(refused);
  });

  it('RunEnd, finished and failed with its cause', () => {
    const finished = { runId: 'run-7', status: 'finished' as const, roundsCompleted: 5 };
    const failed = {
      runId: 'run-7',
      status: 'failed' as const,
      error: { code: 'FEDTL_ERR_QUORUM_NOT_MET' as const, message: 'round 2 missed its quorum of 2 updates 3 times' },
      roundsCompleted: 1,
    };
    expect(decodeRunEnd(encodeRunEnd(finished))).toEqual(finished);
    expect(decodeRunEnd(encodeRunEnd(failed))).toEqual(failed);
  });

  it('Welcome without max_message_bytes (an older coordinator) reads as 0: not stated', () => {
    expect(decodeWelcome(encodeWelcome({ ...sampleWelcome, maxMessageBytes: undefined })).maxMessageBytes).toBe(0);
  });

  it('Welcome with LoRA inside the backbone round-trips, and without it has no lora field', () => {
    const lora = { rank: 4, alpha: 8, layers: [1], targets: ['query' as const, 'value' as const] };
    const withLora = { ...sampleWelcome, model: { ...sampleWelcome.model, lora } };
    expect(decodeWelcome(encodeWelcome(withLora))).toEqual(withLora);
    expect(decodeWelcome(encodeWelcome(sampleWelcome)).model).not.toHaveProperty('lora');
  });

  it.each([
    [{ rank: 0, alpha: 8, layers: [1], targets: ['query'] }, /Welcome\.model\.lora\.rank: expected a positive integer, got 0/],
    [{ rank: 4, alpha: 0, layers: [1], targets: ['query'] }, /Welcome\.model\.lora\.alpha: expected a positive finite number, got 0/],
    [{ rank: 4, alpha: 8, layers: [], targets: ['query'] }, /Welcome\.model\.lora\.layers: expected 1 to 64 layer indices, got 0/],
    [{ rank: 4, alpha: 8, layers: [1], targets: ['query', 'attention'] }, /Welcome\.model\.lora\.targets: expected 1 or more of query, key, value, output, ffn-inner, ffn-outer, got "attention"/],
    [{ rank: 4, alpha: 8, layers: [1], targets: [] }, /Welcome\.model\.lora\.targets: expected 1 or more of .*, got none/],
  ])('refuses a Welcome whose LoRA terms are malformed: %j', (lora, message) => {
    const welcome = { runId: 'r', clientId: 'c', protocolVersion: 1, model: { inputDim: 512, head: 1, labels: ['a', 'b'], lora } };
    expectFedtlError(() => decodeWelcome(rawMessage('Welcome', welcome)), 'FEDTL_ERR_MALFORMED_MESSAGE', message);
  });

  it('Error', () => {
    const error = { code: 'FEDTL_ERR_ROUND_TIMEOUT' as const, message: 'expected an update within 60000 ms, got none' };
    expect(decodeError(encodeError(error))).toEqual(error);
  });

  it('an Error code this version does not know arrives as FEDTL_ERR_INTERNAL, keeping the code in the text', () => {
    expect(decodeError(rawMessage('Error', { code: 'FEDTL_ERR_FROM_THE_FUTURE', message: 'later' }))).toEqual({
      code: 'FEDTL_ERR_INTERNAL',
      message: 'later (peer code FEDTL_ERR_FROM_THE_FUTURE, unknown to this version)',
    });
  });

  it('compresses float32 tensors as requested and keeps int32 tensors raw', () => {
    const update = sampleUpdate();
    const raw = encodeUpdate(update);
    const int8 = encodeUpdate(update, { tensorEncoding: 'int8' });
    const float16 = encodeUpdate(update, { tensorEncoding: 'float16' });
    expect(int8.byteLength).toBeLessThan(raw.byteLength / 3.5);
    expect(float16.byteLength).toBeLessThan(raw.byteLength / 1.9);
    for (const encoded of [int8, float16]) {
      const decoded = decodeUpdate(encoded);
      decoded.delta.forEach((tensor, i) => {
        expect(tensor.shape).toEqual(update.delta[i].shape);
        const original = update.delta[i].data;
        for (let j = 0; j < original.length; j++) expect(Math.abs(tensor.data[j] - original[j])).toBeLessThan(1e-3);
      });
      expect(decoded.delta[6]).toEqual(update.delta[6]);
    }
  });

  it('sends a float32 tensor beyond float16\'s range raw under float16, and the others in half precision', () => {
    const large: NamedTensor = { name: 'large', shape: [3], dtype: 'float32', data: Float32Array.of(0.5, 1e5, -2) };
    const small: NamedTensor = { name: 'small', shape: [2], dtype: 'float32', data: Float32Array.of(0.25, -0.75) };
    const update = { ...sampleUpdate(), delta: [large, small] };
    const bytes = encodeUpdate(update, { tensorEncoding: 'float16' });
    expect(fedtl.v1.Update.decode(bytes).delta.map((t) => t.encoding)).toEqual([fedtl.v1.TensorEncoding.TENSOR_ENCODING_RAW, fedtl.v1.TensorEncoding.TENSOR_ENCODING_FLOAT16]);
    expect(decodeUpdate(bytes).delta).toEqual(update.delta);
  });

  it('accepts what Socket.IO delivers: a Buffer, an ArrayBuffer, a Uint8Array at an offset', () => {
    const encoded = encodeAck({ ok: true });
    const arrayBuffer = new ArrayBuffer(encoded.byteLength);
    new Uint8Array(arrayBuffer).set(encoded);
    const padded = new Uint8Array(encoded.byteLength + 3);
    padded.set(encoded, 3);
    expect(decodeAck(Buffer.from(encoded))).toEqual({ ok: true });
    expect(decodeAck(arrayBuffer)).toEqual({ ok: true });
    expect(decodeAck(padded.subarray(3))).toEqual({ ok: true });
  });

  it('skips fields a newer peer adds', () => {
    const encoded = encodeUpdate(sampleUpdate());
    // Field 100, varint, value 1: a field this version has never heard of.
    const withUnknownField = Buffer.concat([encoded, Uint8Array.of(0xa0, 0x06, 0x01)]);
    expect(decodeUpdate(withUnknownField)).toEqual(sampleUpdate());
  });

  it('refuses domain values that would wrap around as uint32', () => {
    expect(() => encodeUpdate({ ...sampleUpdate(), round: -1 })).toThrow(/Update\.round: expected an integer/);
    expect(() => encodeEvaluateReport({ ...sampleEvaluateReport, numExamples: 1.5 })).toThrow(RangeError);
  });
});

const DECODERS: Record<string, (payload: unknown) => unknown> = {
  Join: decodeJoin,
  Welcome: decodeWelcome,
  JoinReply: decodeJoinReply,
  RoundPlan: decodeRoundPlan,
  Update: decodeUpdate,
  EvaluateRequest: decodeEvaluateRequest,
  EvaluateReport: decodeEvaluateReport,
  Ack: decodeAck,
  Error: decodeError,
  RunEnd: decodeRunEnd,
};

const VALID_PAYLOADS: Record<string, Uint8Array> = {
  Join: encodeJoin(sampleJoin),
  Welcome: encodeWelcome(sampleWelcome),
  JoinReply: encodeJoinReply({ ok: true, welcome: sampleWelcome }),
  RoundPlan: encodeRoundPlan(sampleRoundPlan()),
  Update: encodeUpdate(sampleUpdate()),
  EvaluateRequest: encodeEvaluateRequest(sampleEvaluateRequest()),
  EvaluateReport: encodeEvaluateReport(sampleEvaluateReport),
  Ack: encodeAck({ ok: false, error: { code: 'FEDTL_ERR_NOT_JOINED', message: 'expected a join first, got update' } }),
  Error: encodeError({ code: 'FEDTL_ERR_INTERNAL', message: 'boom' }),
  RunEnd: encodeRunEnd({ runId: 'run-7', status: 'failed', error: { code: 'FEDTL_ERR_DIVERGED', message: 'loss NaN' }, roundsCompleted: 2 }),
};

describe.each(Object.keys(DECODERS))('decode%s refuses malformed input', (type) => {
  const decode = DECODERS[type];

  it.each([
    ['a string', 'hello'],
    ['null', null],
    ['undefined', undefined],
    ['an object', { runId: 'r', round: 1 }],
    ['a number', 42],
    ['an array', [1, 2, 3]],
  ])('%s', (_what, payload) => {
    expectFedtlError(() => decode(payload), 'FEDTL_ERR_MALFORMED_MESSAGE', new RegExp(`${type} message`));
  });

  it('random bytes', () => {
    for (let seed = 1; seed <= 25; seed++) {
      const random = seededRandom(seed);
      const bytes = Uint8Array.from({ length: 8 + Math.floor(random() * 120) }, () => Math.floor(random() * 256));
      expectFedtlError(() => decode(bytes), 'FEDTL_ERR_MALFORMED_MESSAGE', new RegExp(type));
    }
  });

  it('a truncated message', () => {
    const valid = VALID_PAYLOADS[type];
    expect(() => decode(valid)).not.toThrow();
    const truncated = valid.subarray(0, valid.byteLength - 1);
    expectFedtlError(() => decode(truncated), 'FEDTL_ERR_MALFORMED_MESSAGE', /does not decode/);
  });

  it('an empty payload (every required field missing)', () => {
    expectFedtlError(() => decode(new Uint8Array(0)), 'FEDTL_ERR_MALFORMED_MESSAGE', new RegExp(`${type}\\.`));
  });
});

describe('decoders name the missing or invalid field', () => {
  const cases: Array<[string, () => unknown, RegExp]> = [
    [
      'Update.clientId',
      () => decodeUpdate(rawMessage('Update', { runId: 'r', round: 1 })),
      /Update\.clientId: expected a non-empty string/,
    ],
    [
      'RoundPlan.config',
      () => decodeRoundPlan(rawMessage('RoundPlan', { runId: 'r', round: 1 })),
      /RoundPlan\.config: expected a message, got none/,
    ],
    [
      'Join.backbone',
      () => decodeJoin(rawMessage('Join', { clientId: 'c', protocolVersion: 1 })),
      /Join\.backbone: expected a message/,
    ],
    [
      'Join.protocolVersion',
      () => decodeJoin(rawMessage('Join', { clientId: 'c' })),
      /Join\.protocolVersion: expected a positive integer, got 0/,
    ],
    [
      'JoinReply.outcome',
      () => decodeJoinReply(new Uint8Array(0)),
      /JoinReply\.outcome: expected a welcome or an error, got neither/,
    ],
    ['Ack.error', () => decodeAck(new Uint8Array(0)), /Ack\.error: expected a message, got none/],
    [
      'Ack.error when ok',
      () => decodeAck(rawMessage('Ack', { ok: true, error: { code: 'FEDTL_ERR_INTERNAL' } })),
      /Ack\.error: expected no error when ok is true/,
    ],
    [
      'Error.code',
      () => decodeError(rawMessage('Error', { message: 'no code' })),
      /Error\.code: expected a non-empty string/,
    ],
  ];

  it.each(cases)('%s', (_field, decode, message) => {
    expectFedtlError(decode, 'FEDTL_ERR_MALFORMED_MESSAGE', message);
  });

  it('refuses enum values this version does not know', () => {
    const config = { localEpochs: 1, batchSize: 8, learningRate: 0.1, optimizer: 7, seed: 1 };
    expectFedtlError(
      () => decodeRoundPlan(rawMessage('RoundPlan', { runId: 'r', round: 1, config })),
      'FEDTL_ERR_MALFORMED_MESSAGE',
      /RoundPlan\.config\.optimizer: expected one of sgd \(1\), adam \(2\), got 7/,
    );
    const tensor = { name: 'w', shape: [1], dtype: 9, data: new Uint8Array(4) };
    expectFedtlError(
      () => decodeEvaluateRequest(rawMessage('EvaluateRequest', { runId: 'r', weights: [tensor] })),
      'FEDTL_ERR_MALFORMED_MESSAGE',
      /EvaluateRequest\.weights\.0\.dtype: expected one of float32 \(1\), int32 \(2\), got 9/,
    );
    const model = { inputDim: 512, head: 0 };
    const welcome = { runId: 'r', clientId: 'c', protocolVersion: 1, model };
    expectFedtlError(() => decodeWelcome(rawMessage('Welcome', welcome)), 'FEDTL_ERR_MALFORMED_MESSAGE', /Welcome\.model\.head/);
  });

  it('reports bad tensor data with its own code, at the tensor it concerns', () => {
    const tensor = { name: 'head/bias', shape: [3], dtype: 1, data: new Uint8Array(11) };
    expectFedtlError(
      () => decodeEvaluateRequest(rawMessage('EvaluateRequest', { runId: 'r', weights: [tensor] })),
      'FEDTL_ERR_BAD_TENSOR_DATA',
      /^EvaluateRequest\.weights\.0: tensor 'head\/bias' \[3\] float32 raw: expected 12 bytes \(3 values × 4\), got 11$/,
    );
  });
});

// Finding 6: text and shapes a client controls are bounded where messages are decoded, before anything stores
// or quotes them. Identifiers over their limit are refused naming the field, its length and the limit; an error
// message is informational and is cut instead.
describe('per-label counts', () => {
  const report = { runId: 'r', round: 1, clientId: 'org-1', numExamples: 2 };

  it('arrive with their labels in Unicode NFC, as labels are compared everywhere', () => {
    const decoded = decodeEvaluateReport(rawMessage('EvaluateReport', { ...report, perLabel: { 're\u0301clamation': { support: 2, correct: 1 } } }));
    expect(Object.keys(decoded.perLabel)).toEqual(['r\u00e9clamation']);
  });

  it('are refused when two keys are one label in NFC', () => {
    const perLabel = { 're\u0301clamation': { support: 1, correct: 1 }, 'r\u00e9clamation': { support: 1, correct: 0 } };
    expectFedtlError(() => decodeEvaluateReport(rawMessage('EvaluateReport', { ...report, perLabel })), 'FEDTL_ERR_MALFORMED_MESSAGE', /perLabel\[1\]: expected each label once \(compared in Unicode NFC\)/);
  });
});

describe('decoders bound what a peer controls', () => {
  const backbone = { id: 'use-lite', contentHash: 'a'.repeat(64), dim: 512 };
  const join = { clientId: 'org-1', protocolVersion: 1, backbone, labels: ['a', 'b'], numTrainExamples: 1 };
  const tensor = { name: 'head/bias', shape: [3], dtype: 1, data: new Uint8Array(12) };
  const update = { runId: 'r', round: 1, clientId: 'org-1', delta: [tensor], numExamples: 1 };
  const report = { runId: 'r', round: 1, clientId: 'org-1', numExamples: 1 };

  const refusals: Array<[string, () => unknown, RegExp]> = [
    ['Join.clientId', () => decodeJoin(rawMessage('Join', { ...join, clientId: 'x'.repeat(65) })), /^Join\.clientId: expected at most 64 characters, got 65 characters/],
    ['Join.token', () => decodeJoin(rawMessage('Join', { ...join, token: 't'.repeat(1025) })), /^Join\.token: expected at most 1024 characters, got 1025/],
    ['Join.backbone.id', () => decodeJoin(rawMessage('Join', { ...join, backbone: { ...backbone, id: 'b'.repeat(500_000) } })), /^Join\.backbone\.id: expected at most 512 characters, got 500000 characters/],
    ['Join.backbone.contentHash', () => decodeJoin(rawMessage('Join', { ...join, backbone: { ...backbone, contentHash: 'z'.repeat(64) } })), /^Join\.backbone\.contentHash: expected 64 lowercase hex digits/],
    ['Join.labels[1]', () => decodeJoin(rawMessage('Join', { ...join, labels: ['a', 'l'.repeat(129)] })), /^Join\.labels\[1\]: expected at most 128 characters, got 129/],
    ['Join.labels', () => decodeJoin(rawMessage('Join', { ...join, labels: Array.from({ length: 1025 }, (_, i) => `l${i}`) })), /^Join\.labels: expected at most 1024 entries, got 1025/],
    ['Update.runId', () => decodeUpdate(rawMessage('Update', { ...update, runId: 'r'.repeat(65) })), /^Update\.runId: expected at most 64 characters/],
    ['Update.delta.0.name', () => decodeUpdate(rawMessage('Update', { ...update, delta: [{ ...tensor, name: 'n'.repeat(129) }] })), /^Update\.delta\.0\.name: expected at most 128 characters, got 129/],
    ['Update.delta.0.shape (rank)', () => decodeUpdate(rawMessage('Update', { ...update, delta: [{ ...tensor, shape: Array.from({ length: 190_000 }, () => 1) }] })), /^Update\.delta\.0\.shape: expected a rank of at most 8, got rank 190000$/],
    ['Update.delta.0.shape[1]', () => decodeUpdate(rawMessage('Update', { ...update, delta: [{ ...tensor, shape: [1, 2 ** 31 + 1] }] })), /^Update\.delta\.0\.shape\[1\]: expected a dimension of at most 2147483648, got 2147483649$/],
    ['Update.delta', () => decodeUpdate(rawMessage('Update', { ...update, delta: Array.from({ length: 257 }, () => tensor) })), /^Update\.delta: expected at most 256 entries, got 257$/],
    ['Update.metrics[0]', () => decodeUpdate(rawMessage('Update', { ...update, metrics: { ['m'.repeat(129)]: 1 } })), /^Update\.metrics\[0\]: expected at most 128 characters/],
    ['Update.metrics', () => decodeUpdate(rawMessage('Update', { ...update, metrics: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`m${i}`, i])) })), /^Update\.metrics: expected at most 64 entries, got 65$/],
    ['EvaluateReport.perLabel[0]', () => decodeEvaluateReport(rawMessage('EvaluateReport', { ...report, perLabel: { ['l'.repeat(129)]: { support: 1, correct: 1 } } })), /^EvaluateReport\.perLabel\[0\]: expected at most 128 characters/],
    ['EvaluateReport.clientId', () => decodeEvaluateReport(rawMessage('EvaluateReport', { ...report, clientId: 'c'.repeat(65) })), /^EvaluateReport\.clientId: expected at most 64 characters/],
    ['Welcome.model.labels[0]', () => decodeWelcome(rawMessage('Welcome', { runId: 'r', clientId: 'c', protocolVersion: 1, model: { inputDim: 4, head: 1, labels: ['l'.repeat(129)] } })), /^Welcome\.model\.labels\[0\]: expected at most 128 characters/],
    ['Error.code', () => decodeError(rawMessage('Error', { code: 'C'.repeat(65), message: 'm' })), /^Error\.code: expected at most 64 characters/],
  ];

  it.each(refusals)('refuses an oversize %s, naming its length and the limit', (_field, decode, message) => {
    expectFedtlError(decode, 'FEDTL_ERR_MALFORMED_MESSAGE', message);
  });

  it('accepts every field at its limit', () => {
    const atLimit = { ...join, clientId: 'x'.repeat(64), token: 't'.repeat(1024), backbone: { ...backbone, id: 'b'.repeat(512) }, labels: ['l'.repeat(128)] };
    expect(decodeJoin(rawMessage('Join', atLimit)).backbone.id).toHaveLength(512);
    const shape = [1, 1, 1, 1, 1, 1, 1, 3];
    expect(decodeUpdate(rawMessage('Update', { ...update, delta: [{ ...tensor, shape }] })).delta[0].shape).toEqual(shape);
  });

  it('cuts a 900 KB error message to 1 KiB with a length note and escapes its control characters, without refusing it', () => {
    const message = 'out of memory\n12:00:00.000 info  [coordinator] forged line ' + 'x'.repeat(900_000);
    const error = decodeError(rawMessage('Error', { code: 'FEDTL_ERR_INTERNAL', message }));
    expect(error.code).toBe('FEDTL_ERR_INTERNAL');
    expect(error.message.length).toBeLessThanOrEqual(1024);
    expect(error.message).toMatch(/^out of memory\\n12:00:00\.000 info {2}\[coordinator\] forged line x+…\[900059 chars\]$/);
    const ack = decodeAck(rawMessage('Ack', { ok: false, error: { code: 'FEDTL_ERR_INTERNAL', message } }));
    expect(ack.error?.message.length).toBeLessThanOrEqual(1024);
  });
});

describe('RunEnd validation', () => {
  const error = { code: 'FEDTL_ERR_QUORUM_NOT_MET', message: 'round 1 missed its quorum' };

  it('refuses a failed verdict without its cause', () => {
    const wire = rawMessage('RunEnd', { runId: 'run-7', status: 2, roundsCompleted: 1 });
    expectFedtlError(() => decodeRunEnd(wire), 'FEDTL_ERR_MALFORMED_MESSAGE', /RunEnd\.error: expected a message, got none/);
  });

  it('refuses a finished verdict that carries an error', () => {
    const wire = rawMessage('RunEnd', { runId: 'run-7', status: 1, error, roundsCompleted: 3 });
    expectFedtlError(() => decodeRunEnd(wire), 'FEDTL_ERR_MALFORMED_MESSAGE', /RunEnd\.error: expected no error when the run finished/);
  });

  it('refuses a verdict without a status or with one this version does not know', () => {
    for (const status of [0, 9]) {
      const wire = rawMessage('RunEnd', { runId: 'run-7', status, error });
      expectFedtlError(() => decodeRunEnd(wire), 'FEDTL_ERR_MALFORMED_MESSAGE', /RunEnd\.status: expected one of finished \(1\), failed \(2\)/);
    }
  });

  it('refuses a verdict without a run id', () => {
    expectFedtlError(() => decodeRunEnd(rawMessage('RunEnd', { status: 1 })), 'FEDTL_ERR_MALFORMED_MESSAGE', /RunEnd\.runId/);
  });

  it('refuses a rounds count that would wrap around as uint32', () => {
    expect(() => encodeRunEnd({ runId: 'run-7', status: 'finished', roundsCompleted: -1 })).toThrow(/RunEnd\.roundsCompleted/);
  });
});

describe('hostile sparse updates', () => {
  it('refuses each way of breaking the sparse layout with FEDTL_ERR_BAD_TENSOR_DATA (or a malformed field), naming the tensor', () => {
    const update: Update = {
      runId: 'run-1',
      round: 2,
      clientId: 'org-1',
      delta: [{ name: 'head/out/kernel', shape: [4, 2], dtype: 'float32', data: Float32Array.of(0, 1, 0, 0, 0, 0, 2, 0) }],
      numExamples: 3,
      metrics: {},
    };
    expect(Array.from(decodeUpdate(encodeUpdate(update, { tensorEncoding: 'sparse' })).delta[0].data)).toEqual([0, 1, 0, 0, 0, 0, 2, 0]);
    const expected: Record<SparseLayoutFault, RegExp> = {
      'out-of-range': /Update\.delta\.0: tensor 'head\/out\/kernel' is sparse with 1 entries in 8 values: expected positions below 8, got 8 at index 0/,
      duplicate: /a gap of 0 \(a duplicate position 1\)/,
      unsorted: /expected positions below 8, got 4294967296 at index 1/,
      'count-above-values': /expected 12 value bytes \(3 entries × 4, raw\), got 8/,
      'count-above-dense': /expected at most 8 entries \(its dense length\), got 9/,
      'truncated-indices': /the bytes end inside index 1/,
      'trailing-index-bytes': /expected 1 indices in 1 bytes, got 1 bytes more/,
      'overlong-varint': /index 0 in at most 5 varint bytes, got more/,
      'huge-count': /expected at most 8 entries \(its dense length\), got 4000000000/,
      'huge-shape': /at most 16777216 values in all/,
      'int8-values': /expected its values raw \(float32\) or float16, got int8/,
    };
    for (const fault of SPARSE_LAYOUT_FAULTS) {
      let thrown: unknown;
      try {
        decodeUpdate(encodeHostileSparseUpdate(update, fault));
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(FedtlError);
      expect([fault, (thrown as FedtlError).code]).toEqual([fault, 'FEDTL_ERR_BAD_TENSOR_DATA']);
      expect((thrown as FedtlError).message).toMatch(expected[fault]);
    }
  });
});
