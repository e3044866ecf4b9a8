// The one-copy writer against the generated protobufjs encoder and decoder: byte for byte without alignment,
// value for value with it (padded length varints), and every tensor's data aligned when there is room to pad.
import fc from 'fast-check';
import { fedtl } from './generated/fedtl';
import { decodeUpdate, encodeUpdate } from './codec';
import { writeTensorMessage } from './tensor-message-writer';

import v1 = fedtl.v1;

const tensorArbitrary = fc.record({
  name: fc.string({ unit: 'grapheme', maxLength: 40 }),
  shape: fc.array(fc.integer({ min: 0, max: 300_000 }), { maxLength: 4 }),
  dtype: fc.constantFrom(0, 1),
  encoding: fc.constantFrom(0, 1, 2),
  data: fc.uint8Array({ maxLength: 600 }),
  scale: fc.constantFrom(0, 0.5, 1e-3),
  zeroPoint: fc.integer({ min: -128, max: 127 }),
});

const updateArbitrary = fc.record({
  runId: fc.string({ maxLength: 20 }),
  round: fc.nat(),
  clientId: fc.string({ maxLength: 200 }),
  delta: fc.array(tensorArbitrary, { maxLength: 4 }),
  numExamples: fc.nat(),
  metrics: fc.dictionary(fc.string({ maxLength: 8 }), fc.double({ noNaN: true })),
});

type UpdateProperties = typeof updateArbitrary extends fc.Arbitrary<infer U> ? U : never;

function written(update: UpdateProperties, alignData: boolean): Uint8Array {
  return writeTensorMessage(
    {
      before: v1.Update.encode({ runId: update.runId, round: update.round, clientId: update.clientId }).finish(),
      tensorField: 4,
      tensors: update.delta,
      after: v1.Update.encode({ numExamples: update.numExamples, metrics: update.metrics }).finish(),
    },
    { alignData },
  );
}

/** The decoded message as plain values (bytes as arrays), so that two decodings compare with toEqual. */
function plain(bytes: Uint8Array): unknown {
  const update = v1.Update.decode(bytes);
  return {
    runId: update.runId,
    round: update.round,
    clientId: update.clientId,
    numExamples: update.numExamples,
    metrics: { ...update.metrics },
    delta: update.delta.map((t) => ({ name: t.name, shape: [...(t.shape ?? [])], dtype: t.dtype, encoding: t.encoding, data: [...(t.data ?? [])], scale: t.scale, zeroPoint: t.zeroPoint })),
  };
}

describe('writeTensorMessage', () => {
  it('writes the bytes protobufjs writes when it does not align', () => {
    fc.assert(
      fc.property(updateArbitrary, (update) => {
        expect(Buffer.from(written(update, false))).toEqual(Buffer.from(v1.Update.encode(update).finish()));
      }),
      { numRuns: 200, seed: 14 },
    );
  });

  it('aligned, decodes with protobufjs to the same values, each tensor data at a multiple of 4 when 4 bytes or more', () => {
    fc.assert(
      fc.property(updateArbitrary, (update) => {
        const bytes = written(update, true);
        expect(plain(bytes)).toEqual(plain(v1.Update.encode(update).finish()));
        // Reading from a buffer that starts at an aligned address, as a received message does.
        const received = Buffer.from(Uint8Array.from(bytes).buffer);
        for (const tensor of v1.Update.decode(received).delta) {
          const data = tensor.data ?? new Uint8Array(0);
          if (data.length >= 4) expect(data.byteOffset % 4).toBe(0);
        }
      }),
      { numRuns: 200, seed: 15 },
    );
  });

  it('aligns a large tensor whose lengths take four-byte varints', () => {
    const data = new Uint8Array(4 * 1_000_003);
    for (let nameLength = 1; nameLength <= 4; nameLength++) {
      const bytes = writeTensorMessage({ before: v1.Update.encode({ runId: 'r'.repeat(nameLength) }).finish(), tensorField: 4, tensors: [{ name: 'w', shape: [1_000_003], data }], after: new Uint8Array(0) });
      const decoded = v1.Update.decode(Buffer.from(Uint8Array.from(bytes).buffer)).delta[0];
      expect((decoded.data?.byteOffset ?? 1) % 4).toBe(0);
      expect(decoded.data?.length).toBe(data.length);
      expect(decoded.shape).toEqual([1_000_003]);
    }
  });

  it('refuses a tensor field number whose tag is not one byte', () => {
    expect(() => writeTensorMessage({ before: new Uint8Array(0), tensorField: 16, tensors: [], after: new Uint8Array(0) })).toThrow(RangeError);
  });
});

describe('encodeUpdate through the writer', () => {
  const validUpdate = fc.record({
    runId: fc.constantFrom('run-1', 'r', 'a-longer-run-identifier'),
    round: fc.nat({ max: 1000 }),
    clientId: fc.constantFrom('c', 'client-7', 'organisation-number-12'),
    delta: fc.uniqueArray(
      fc.record({ name: fc.constantFrom('adapter/kernel', 'adapter/bias', 'head/kernel', 'h'), values: fc.array(fc.float({ noNaN: true, noDefaultInfinity: true }), { minLength: 1, maxLength: 50 }) }),
      { selector: (t) => t.name, maxLength: 3 },
    ),
    numExamples: fc.integer({ min: 1, max: 10_000 }),
  });

  it('gives decodeUpdate the values protobufjs bytes give it, viewing aligned data in place', () => {
    fc.assert(
      fc.property(validUpdate, (spec) => {
        const update = {
          runId: spec.runId,
          round: spec.round,
          clientId: spec.clientId,
          delta: spec.delta.map((t) => ({ name: t.name, shape: [t.values.length], dtype: 'float32' as const, data: Float32Array.from(t.values) })),
          numExamples: spec.numExamples,
          metrics: { loss: 0.25 },
        };
        const generic = v1.Update.encode({
          ...update,
          delta: update.delta.map((t) => ({ name: t.name, shape: t.shape, dtype: v1.DType.DTYPE_FLOAT32, data: new Uint8Array(t.data.buffer) })),
        }).finish();
        const received = Buffer.from(Uint8Array.from(encodeUpdate(update)).buffer);
        const decoded = decodeUpdate(received);
        expect(decoded).toEqual(decodeUpdate(generic));
        for (const tensor of decoded.delta) expect(tensor.data.buffer).toBe(received.buffer);
      }),
      { numRuns: 200, seed: 16 },
    );
  });
});
