// Helpers for carrying protocol messages over Socket.IO: binary payload normalisation, acknowledgements with
// timeouts, and the buffer limit a model of a given size needs.
import { FedtlError, describeValue, isArrayBuffer } from '@fedtl/util';
import type { ClientRequestEvent, ServerRequestEvent } from './events';

/**
 * A view of whatever binary arrived (Node Buffer, Uint8Array, ArrayBuffer, other typed arrays) as a
 * Uint8Array over the same memory, without copying. Anything else is a malformed message.
 */
export function toUint8Array(payload: unknown, messageType = 'payload'): Uint8Array {
  if (payload instanceof Uint8Array) return payload;
  if (ArrayBuffer.isView(payload)) return new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength);
  if (isArrayBuffer(payload)) return new Uint8Array(payload);
  throw new FedtlError(
    'FEDTL_ERR_MALFORMED_MESSAGE',
    `expected ${messageType} as binary (Buffer, Uint8Array or ArrayBuffer), got ${describeValue(payload)}`,
  );
}

/**
 * What emitWithAck needs of a socket; both socket.io's server-side Socket and socket.io-client's Socket,
 * typed with the event maps of events.ts, have it.
 */
export interface AckingSocket<Event extends string> {
  timeout(ms: number): { emitWithAck(event: Event, payload: Uint8Array): Promise<unknown> };
}

/**
 * Emits a request and resolves with the peer's encoded reply. A peer that does not answer within `timeoutMs`
 * (busy, gone, or disconnected meanwhile) rejects with FEDTL_ERR_ACK_TIMEOUT.
 */
export async function emitWithAck<Event extends ClientRequestEvent | ServerRequestEvent>(
  socket: AckingSocket<Event>,
  event: Event,
  payload: Uint8Array,
  timeoutMs: number,
): Promise<Uint8Array> {
  let reply: unknown;
  try {
    reply = await socket.timeout(timeoutMs).emitWithAck(event, payload);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new FedtlError(
      'FEDTL_ERR_ACK_TIMEOUT',
      `expected an acknowledgement of '${event}' within ${timeoutMs} ms, got none (${reason})`,
      { event, timeoutMs },
    );
  }
  return toUint8Array(reply, `the reply to '${event}'`);
}

/** Socket.IO's own default limit; no model is so small that we go below it. */
export const MIN_HTTP_BUFFER_SIZE = 1_000_000;
/** Protobuf framing per tensor (name, shape, tags, length varints) is tens of bytes against kilobytes of data. */
const TENSOR_FRAMING_SLACK = 0.1;
/** Ids, training config, metrics and per-label maps around the tensors. */
const MESSAGE_FIELDS_BYTES = 64 * 1024;
/** HTTP long-polling, Socket.IO's fallback transport, carries binary as base64. */
const BASE64_EXPANSION = 4 / 3;

/**
 * The `maxHttpBufferSize` for a federation whose full weight set (raw float32) is `modelBytes` bytes: the
 * largest message is a RoundPlan or Update carrying every tensor, so
 *   max(1e6, ceil((modelBytes * 1.1 + 64 KiB) * 4/3)).
 */
export function maxHttpBufferSizeFor(modelBytes: number): number {
  if (!Number.isFinite(modelBytes) || modelBytes < 0) {
    throw new RangeError(`maxHttpBufferSizeFor: expected modelBytes to be a finite number >= 0, got ${modelBytes}`);
  }
  const largestMessage = modelBytes * (1 + TENSOR_FRAMING_SLACK) + MESSAGE_FIELDS_BYTES;
  return Math.max(MIN_HTTP_BUFFER_SIZE, Math.ceil(largestMessage * BASE64_EXPANSION));
}
