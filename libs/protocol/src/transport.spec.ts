import { type AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import { Server, type Socket as ServerSocket } from 'socket.io';
import { io, type Socket as ClientSocket } from 'socket.io-client';
import { FedtlError } from '@fedtl/util';
import { useTestSandbox } from '@fedtl/util/testing';
import { decodeAck, decodeRoundPlan, encodeAck, encodeRoundPlan, encodeUpdate } from './codec';
import type { RoundPlan } from './domain';
import type { ClientToServerEvents, ServerToClientEvents } from './events';
import { sampleRoundPlan, sampleUpdate } from './testing/fixtures';
import { MIN_HTTP_BUFFER_SIZE, emitWithAck, maxHttpBufferSizeFor, toUint8Array } from './transport';

describe('toUint8Array', () => {
  it('views a Buffer, an ArrayBuffer and other typed arrays without copying', () => {
    const buffer = Buffer.from([1, 2, 3, 4]);
    expect(toUint8Array(buffer)).toBe(buffer);
    const arrayBuffer = new ArrayBuffer(8);
    expect(toUint8Array(arrayBuffer).buffer).toBe(arrayBuffer);
    const floats = new Float32Array(arrayBuffer, 4, 1);
    const view = toUint8Array(floats);
    expect([view.buffer, view.byteOffset, view.byteLength]).toEqual([arrayBuffer, 4, 4]);
  });

  it('refuses anything that is not binary', () => {
    expect(() => toUint8Array('bytes', 'an Update message')).toThrow(
      new FedtlError('FEDTL_ERR_MALFORMED_MESSAGE', 'expected an Update message as binary (Buffer, Uint8Array or ArrayBuffer), got string "bytes"'),
    );
  });
});

describe('maxHttpBufferSizeFor', () => {
  it('never goes below the Socket.IO default', () => {
    expect(maxHttpBufferSizeFor(0)).toBe(MIN_HTTP_BUFFER_SIZE);
    expect(maxHttpBufferSizeFor(100_000)).toBe(MIN_HTTP_BUFFER_SIZE);
  });

  it('fits a full weight set sent over long-polling, with headroom', () => {
    const modelBytes = 200 * 1024 * 1024;
    const limit = maxHttpBufferSizeFor(modelBytes);
    expect(limit).toBe(Math.ceil((modelBytes * 1.1 + 65536) * (4 / 3)));
    expect(limit).toBeGreaterThan((modelBytes * 4) / 3);
  });

  it('is at least the size of a real encoded update', () => {
    const update = sampleUpdate();
    const modelBytes = update.delta.reduce((sum, tensor) => sum + tensor.data.byteLength, 0);
    expect(encodeUpdate(update).byteLength).toBeLessThan(maxHttpBufferSizeFor(modelBytes));
  });

  it('refuses a size that is not a finite number >= 0', () => {
    expect(() => maxHttpBufferSizeFor(-1)).toThrow(RangeError);
    expect(() => maxHttpBufferSizeFor(NaN)).toThrow(/got NaN/);
  });
});

describe('protocol over a real Socket.IO connection', () => {
  const sandbox = useTestSandbox();
  let client: ClientSocket<ServerToClientEvents, ClientToServerEvents>;
  let serverSide: ServerSocket<ClientToServerEvents, ServerToClientEvents>;

  beforeEach(async () => {
    const plan = sampleRoundPlan();
    const modelBytes = plan.weights.reduce((sum, tensor) => sum + tensor.data.byteLength, 0);
    const httpServer = createServer();
    const server = new Server<ClientToServerEvents, ServerToClientEvents>(httpServer, { maxHttpBufferSize: maxHttpBufferSizeFor(modelBytes) });
    sandbox.defer(() => new Promise<void>((resolve) => server.close(() => resolve())));
    await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
    const { port } = httpServer.address() as AddressInfo;
    const connected = new Promise<ServerSocket<ClientToServerEvents, ServerToClientEvents>>((resolve) =>
      server.once('connection', resolve),
    );
    const socket: ClientSocket<ServerToClientEvents, ClientToServerEvents> = io(`http://127.0.0.1:${port}`, { transports: ['websocket'], reconnection: false });
    sandbox.defer(() => socket.disconnect());
    client = socket;
    serverSide = await connected;
  });

  it('sends an encoded RoundPlan and gets the client’s Ack back', async () => {
    const plan = sampleRoundPlan();
    const received = new Promise<RoundPlan>((resolve) => {
      client.on('round-plan', (payload, reply) => {
        resolve(decodeRoundPlan(payload));
        reply(encodeAck({ ok: true }));
      });
    });
    const reply = await emitWithAck(serverSide, 'round-plan', encodeRoundPlan(plan), 5_000);
    expect(decodeAck(reply)).toEqual({ ok: true });
    expect(await received).toEqual(plan);
  });

  it('works from the client side too: a refusal travels as an Ack with an error', async () => {
    serverSide.on('update', (_payload, reply) => {
      reply(encodeAck({ ok: false, error: { code: 'FEDTL_ERR_NOT_SELECTED', message: 'expected one of [a], got b' } }));
    });
    const reply = await emitWithAck(client, 'update', encodeUpdate(sampleUpdate()), 5_000);
    expect(decodeAck(reply)).toEqual({
      ok: false,
      error: { code: 'FEDTL_ERR_NOT_SELECTED', message: 'expected one of [a], got b' },
    });
  });

  it('rejects with FEDTL_ERR_ACK_TIMEOUT when the peer does not acknowledge in time', async () => {
    client.on('round-plan', () => undefined);
    const pending = emitWithAck(serverSide, 'round-plan', encodeRoundPlan(sampleRoundPlan()), 50);
    await expect(pending).rejects.toBeInstanceOf(FedtlError);
    await expect(pending).rejects.toMatchObject({
      code: 'FEDTL_ERR_ACK_TIMEOUT',
      message: expect.stringMatching(/^expected an acknowledgement of 'round-plan' within 50 ms, got none/),
    });
  });
});
