// The wire benchmark's measurements: for each update size, the three transfers of the issue, (a) fedtl's codec
// over Socket.IO, (b) a JSON array of numbers over the same Socket.IO, (c) raw TCP, plus the passes that make up
// (a) timed alone (the codec's encode and decode, ws's mask and unmask, Socket.IO carrying already encoded bytes)
// and a plain copy of the payload as the yardstick of one pass over it. Every repetition runs every measurement
// once, in turn, so that the machine's load falls on all alike, each after a full garbage collection so that none
// pays for another's garbage; the figures are medians.
import { decodeUpdate, encodeUpdate } from '@fedtl/protocol';
import { FedtlError } from '@fedtl/util';
import { collectGarbage } from '../collect-garbage';
import { median } from '../load/statistics';
import { RawTcpLink } from './raw-tcp-link';
import { SocketIoLink, type WebSocketSettings } from './socket-io-link';
import { benchUpdate, payloadBytes } from './wire-payload';
import { clientBufferUtil, webSocketMasking, type WebSocketMasking } from './ws-masking';

/** The timed steps, each once per repetition. */
export const WIRE_STEPS = ['fedtl', 'json', 'raw', 'socketIoBytes', 'copy', 'slice', 'encode', 'decode', 'mask', 'unmask'] as const;
export type WireStep = (typeof WIRE_STEPS)[number];

/** Median milliseconds per step for one size. */
export type StepMillis = Record<WireStep, number>;

export interface WireMeasurement {
  floats: number;
  /** Bytes of float32 values carried, 4 × floats: every MB/s figure is these bytes (1 MB = 1e6 bytes) per second. */
  payloadBytes: number;
  /** Bytes of the encoded Update (payload plus protobuf framing and the other fields). */
  encodedBytes: number;
  /** decodeUpdate of the encoded bytes (at an aligned address) returns a view over them: the data is aligned in the message. */
  decodeZeroCopy: boolean;
  /** How many of the Updates the Socket.IO server received (warm-up included) it decoded without copying, and of how many. */
  serverDecodedInPlace: { inPlace: number; of: number };
  medianMs: StepMillis;
  /** Every repetition's milliseconds, in order. */
  samplesMs: Record<WireStep, number[]>;
}

export interface WireMeasurements {
  webSocket: WebSocketSettings;
  masking: WebSocketMasking;
  repetitions: number;
  sizes: WireMeasurement[];
}

const MASK_KEY = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);

async function millis(step: () => unknown): Promise<number> {
  const start = process.hrtime.bigint();
  await step();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/**
 * Measures every step at every size, `repetitions` times each after one untimed warm-up, interleaved.
 * @throws FedtlError when ws masks in JavaScript (then the figures would not be fedtl's as deployed) or a transfer
 * comes back wrong.
 */
export async function measureWire(sizes: readonly number[], repetitions: number, seed: number): Promise<WireMeasurements> {
  const masking = webSocketMasking();
  const bufferUtil = clientBufferUtil();
  if (!bufferUtil || !masking.server.native) {
    throw new FedtlError('FEDTL_ERR_INTERNAL', `expected ws to mask with the native bufferutil on both sides, got ${JSON.stringify(masking)}`);
  }
  const socketIo = await SocketIoLink.open(Math.max(...sizes));
  const raw = await RawTcpLink.open();
  try {
    const measured: WireMeasurement[] = [];
    for (const floats of sizes) {
      const update = benchUpdate(floats, seed);
      const payload = payloadBytes(update);
      const encoded = encodeUpdate(update);
      const received = Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength);
      const decoded = decodeUpdate(received).delta[0].data;
      const frame = Buffer.allocUnsafe(encoded.byteLength);
      const steps: Record<WireStep, () => unknown> = {
        fedtl: () => socketIo.sendFedtl(update),
        json: () => socketIo.sendJson(update.delta[0].data as Float32Array),
        raw: () => raw.send(payload),
        socketIoBytes: () => socketIo.sendBytes(encoded),
        // The fastest plain copy Node has: an uninitialised buffer (as encodeUpdate's) and one memcpy into it.
        copy: () => Buffer.allocUnsafe(payload.byteLength).set(payload),
        // The plain copy in JavaScript: a new (zeroed) ArrayBuffer and a memcpy.
        slice: () => payload.slice(),
        encode: () => encodeUpdate(update),
        decode: () => decodeUpdate(received),
        // As ws's Sender does with a buffer it may not modify: a new frame, the payload masked into it.
        mask: () => bufferUtil.mask(received, MASK_KEY, Buffer.allocUnsafe(received.length), 0, received.length),
        // As ws's Receiver does: in place, over the reassembled payload.
        unmask: () => bufferUtil.unmask(frame, MASK_KEY),
      };
      const samplesMs = Object.fromEntries(WIRE_STEPS.map((step) => [step, [] as number[]])) as Record<WireStep, number[]>;
      socketIo.decodedInPlace.length = 0;
      for (const step of WIRE_STEPS) await steps[step]();
      for (let rep = 0; rep < repetitions; rep++) {
        for (const step of WIRE_STEPS) {
          collectGarbage();
          samplesMs[step].push(await millis(steps[step]));
        }
      }
      measured.push({
        floats,
        payloadBytes: payload.byteLength,
        encodedBytes: encoded.byteLength,
        decodeZeroCopy: decoded.buffer === received.buffer,
        serverDecodedInPlace: { inPlace: socketIo.decodedInPlace.filter(Boolean).length, of: socketIo.decodedInPlace.length },
        medianMs: Object.fromEntries(WIRE_STEPS.map((step) => [step, median(samplesMs[step])])) as StepMillis,
        samplesMs,
      });
    }
    return { webSocket: socketIo.webSocketSettings(), masking, repetitions, sizes: measured };
  } finally {
    await Promise.all([socketIo.close(), raw.close()]);
  }
}
