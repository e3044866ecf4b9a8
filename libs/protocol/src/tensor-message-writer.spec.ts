// The one-copy writer against the generated protobufjs encoder and decoder: byte for byte without alignment,
// value for value with it (padded length varints), and every tensor's data aligned when there is room to pad.
import fc from 'fast-check';
import { seededRandom } from '@fedtl/util';
import { fedtl } from './generated/fedtl';
import { decodeUpdate, encodeUpdate } from './codec';
import type { DType, NamedTensor, TensorEncoding, Update } from './domain';
import { decodeTensor, encodeTensor, type WireTensor } from './tensor-codec';
import { writeTensorMessage } from './tensor-message-writer';

import v1 = fedtl.v1;

/**
 * Bytes, small in most runs; in some above 64 KiB, so that their length varints take 3 bytes. The large ones are a
 * pattern from a seed (every byte drawn by fast-check would take seconds), enough to tell one offset from another.
 */
const dataArbitrary = fc.oneof(
  { weight: 6, arbitrary: fc.uint8Array({ maxLength: 600 }) },
  {
    weight: 1,
    arbitrary: fc.record({ length: fc.integer({ min: 65_537, max: 70_000 }), seed: fc.nat({ max: 255 }) }).map(({ length, seed }) => {
      const bytes = new Uint8Array(length);
      for (let i = 0; i < length; i++) bytes[i] = (i * 31 + seed + (i >> 8)) & 0xff;
      return bytes;
    }),
  },
);

const tensorArbitrary = fc.record({
  name: fc.string({ unit: 'grapheme', maxLength: 40 }),
  shape: fc.array(fc.integer({ min: 0, max: 300_000 }), { maxLength: 4 }),
  dtype: fc.constantFrom(0, 1),
  encoding: fc.constantFrom(0, 1, 2, 3),
  data: dataArbitrary,
  scale: fc.constantFrom(0, 0.5, 1e-3),
  zeroPoint: fc.integer({ min: -128, max: 127 }),
  sparseCount: fc.nat({ max: 70_000 }),
  sparseIndices: fc.uint8Array({ maxLength: 40 }),
  sparseValues: fc.constantFrom(0, 1),
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

/** The decoded message as plain values (bytes as base64), so that two decodings compare with toEqual quickly. */
function plain(bytes: Uint8Array): unknown {
  const update = v1.Update.decode(bytes);
  return {
    runId: update.runId,
    round: update.round,
    clientId: update.clientId,
    numExamples: update.numExamples,
    metrics: { ...update.metrics },
    delta: update.delta.map((t) => ({
      name: t.name,
      shape: [...(t.shape ?? [])],
      dtype: t.dtype,
      encoding: t.encoding,
      data: Buffer.from(t.data ?? []).toString('base64'),
      scale: t.scale,
      zeroPoint: t.zeroPoint,
      sparseCount: t.sparseCount,
      sparseIndices: Buffer.from(t.sparseIndices ?? []).toString('base64'),
      sparseValues: t.sparseValues,
    })),
  };
}

/** The Tensor data of a message as protobufjs reads it from an aligned buffer, as a received message is. */
function tensorData(bytes: Uint8Array): Uint8Array[] {
  return v1.Update.decode(Buffer.from(Uint8Array.from(bytes).buffer)).delta.map((tensor) => tensor.data ?? new Uint8Array(0));
}

describe('writeTensorMessage', () => {
  it('writes the bytes protobufjs writes when it does not align', () => {
    fc.assert(
      fc.property(updateArbitrary, (update) => {
        // Compared as base64: Jest's toEqual walks a typed array value by value, seconds for the large ones.
        expect(Buffer.from(written(update, false)).toString('base64')).toBe(Buffer.from(v1.Update.encode(update).finish()).toString('base64'));
      }),
      { numRuns: 200, seed: 14 },
    );
  });

  it('aligned, decodes with protobufjs to the same values, each tensor data with a shape at a multiple of 4 when 4 bytes or more', () => {
    fc.assert(
      fc.property(updateArbitrary, (update) => {
        const bytes = written(update, true);
        expect(plain(bytes)).toEqual(plain(v1.Update.encode(update).finish()));
        // A tensor without a shape holds one value (at most 4 bytes in a valid message): when its data is longer, its
        // data's length varint alone may lack the room to pad.
        tensorData(bytes).forEach((data, i) => {
          if (data.length >= 4 && update.delta[i].shape.length > 0) expect(data.byteOffset % 4).toBe(0);
        });
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

describe('fedtl tensors of every encoding through the writer', () => {
  const WIRE_DTYPES: Record<DType, v1.DType> = { float32: v1.DType.DTYPE_FLOAT32, int32: v1.DType.DTYPE_INT32 };
  const WIRE_ENCODINGS: Record<TensorEncoding, v1.TensorEncoding> = {
    raw: v1.TensorEncoding.TENSOR_ENCODING_RAW,
    float16: v1.TensorEncoding.TENSOR_ENCODING_FLOAT16,
    int8: v1.TensorEncoding.TENSOR_ENCODING_INT8,
    sparse: v1.TensorEncoding.TENSOR_ENCODING_SPARSE,
  };

  /** tensor.proto's fields for a fedtl wire tensor, written independently of codec.ts's mapping. */
  function generatedTensor(wire: WireTensor): v1.Tensor.$Properties {
    return {
      name: wire.name,
      shape: wire.shape,
      dtype: WIRE_DTYPES[wire.dtype],
      encoding: WIRE_ENCODINGS[wire.encoding],
      data: wire.data,
      scale: wire.scale,
      zeroPoint: wire.zeroPoint,
      ...(wire.sparse ? { sparseCount: wire.sparse.count, sparseIndices: wire.sparse.indices, sparseValues: WIRE_ENCODINGS[wire.sparse.values] } : {}),
    };
  }

  /**
   * A tensor's values from a seed: int32 raw, or float32 in any encoding. Sizes up to 17,000 values, so float32
   * raw data passes 64 KiB (3-byte length varints); sparse tensors keep about one value in `1 / density`, some
   * beyond float16's range (then sent as float32).
   */
  const tensorSpec = fc.record({
    kind: fc.constantFrom<Array<{ dtype: DType; encoding: TensorEncoding }>>(
      { dtype: 'int32', encoding: 'raw' },
      { dtype: 'float32', encoding: 'raw' },
      { dtype: 'float32', encoding: 'float16' },
      { dtype: 'float32', encoding: 'int8' },
      { dtype: 'float32', encoding: 'sparse' },
    ),
    shape: fc.oneof(
      { weight: 3, arbitrary: fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 3 }) },
      { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 16_385, max: 17_000 })) },
    ),
    seed: fc.nat(),
    density: fc.constantFrom(1, 0.3, 0.01),
    wide: fc.boolean(),
  });

  function tensorOf(spec: typeof tensorSpec extends fc.Arbitrary<infer T> ? T : never, name: string): NamedTensor {
    const length = spec.shape.reduce((count, dim) => count * dim, 1);
    const random = seededRandom(spec.seed);
    if (spec.kind.dtype === 'int32') return { name, shape: spec.shape, dtype: 'int32', data: Int32Array.from({ length }, () => Math.floor((random() - 0.5) * 2 ** 32)) };
    // Values beyond float16's range only where the encoding has a way to send them (sparse falls back to float32).
    const range = spec.wide && spec.kind.encoding === 'sparse' ? 1e6 : 2;
    const data = Float32Array.from({ length }, () => (random() < spec.density ? (random() - 0.5) * range : 0));
    return { name, shape: spec.shape, dtype: 'float32', data };
  }

  const mixedUpdate = fc.record({
    tensors: fc.array(tensorSpec, { maxLength: 4 }),
    runId: fc.constantFrom('run-1', 'a-longer-run-identifier'),
    clientId: fc.constantFrom('c', 'organisation-number-12'),
    round: fc.nat({ max: 1000 }),
    numExamples: fc.integer({ min: 1, max: 10_000 }),
    metrics: fc.dictionary(fc.constantFrom('loss', 'accuracy', 'seconds'), fc.double({ noNaN: true, noDefaultInfinity: true })),
    /** What encodeUpdate is asked for, for the whole update (int32 tensors stay raw). */
    uniform: fc.constantFrom<TensorEncoding[]>('raw', 'float16', 'int8', 'sparse'),
  });

  it('decode (protobufjs and decodeUpdate) as the generated encoder\'s bytes do, every tensor\'s data at a multiple of 4', () => {
    fc.assert(
      fc.property(mixedUpdate, (spec) => {
        const delta = spec.tensors.map((tensor, i) => tensorOf(tensor, `layer-${i}/kernel`));
        const wire = delta.map((tensor, i) => encodeTensor(tensor, spec.tensors[i].kind.encoding));
        const update: Update = { runId: spec.runId, round: spec.round, clientId: spec.clientId, delta, numExamples: spec.numExamples, metrics: spec.metrics };
        const head = { runId: update.runId, round: update.round, clientId: update.clientId };
        const tail = { numExamples: update.numExamples, metrics: update.metrics };
        const reference = v1.Update.encode({ ...head, ...tail, delta: wire.map(generatedTensor) }).finish();
        const bytes = writeTensorMessage({ before: v1.Update.encode(head).finish(), tensorField: 4, tensors: wire.map(generatedTensor), after: v1.Update.encode(tail).finish() });

        expect(plain(bytes)).toEqual(plain(reference));
        // Received at an aligned address, as Node allocates a message; the expected values are each tensor's own decoding.
        const received = Buffer.from(Uint8Array.from(bytes).buffer);
        const decoded = decodeUpdate(received);
        const expected = { ...update, delta: wire.map((tensor) => decodeTensor(tensor)) };
        expect(comparable(decoded)).toEqual(comparable(expected));
        expect(comparable(decodeUpdate(reference))).toEqual(comparable(expected));
        tensorData(bytes).forEach((data, i) => {
          if (data.length > 0) expect([delta[i].name, data.byteOffset % 4]).toEqual([delta[i].name, 0]);
        });
        // Raw data is read in place, not copied.
        decoded.delta.forEach((tensor, i) => {
          if (wire[i].encoding === 'raw') expect(tensor.data.buffer).toBe(received.buffer);
        });

        // encodeUpdate (codec.ts's own mapping) writes what the tensors encoded one by one decode to.
        const floatEncoding = spec.uniform;
        const encodable = floatEncoding !== 'float16' || delta.every((tensor) => tensor.dtype === 'int32' || tensor.data.every((value) => Math.abs(value) <= 65504));
        if (encodable) {
          const one = (tensor: NamedTensor) => decodeTensor(encodeTensor(tensor, tensor.dtype === 'int32' ? 'raw' : floatEncoding));
          const viaCodec = decodeUpdate(Buffer.from(Uint8Array.from(encodeUpdate(update, { tensorEncoding: floatEncoding })).buffer));
          expect(comparable(viaCodec)).toEqual(comparable({ ...update, delta: delta.map(one) }));
        }
      }),
      { numRuns: 150, seed: 17 },
    );
  });
});

/** An Update with its tensors' data as base64 of its bytes (Jest's toEqual walks typed arrays value by value). */
function comparable(update: Update): unknown {
  return {
    ...update,
    delta: update.delta.map((tensor) => ({ ...tensor, data: Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength).toString('base64') })),
  };
}
