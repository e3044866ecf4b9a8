// Variants (a) and (b) of the wire benchmark: one Socket.IO server on 127.0.0.1 (port 0), configured as the
// coordinator's (apps/coordinator/src/server.ts: WebSocket only, maxHttpBufferSize sized for the message, no
// client script, engine.io's default of no per-message deflate), and one socket.io-client configured as fedtl's
// client (apps/client/src/federated-client.ts: WebSocket only), in this process.
//  - fedtl: encodeUpdate, emitWithAck('update') as the client sends it, decodeUpdate on the server, the reply an
//    encoded Ack as the coordinator's;
//  - json: the values as an array of numbers in the event's arguments (Socket.IO's JSON packet), turned back
//    into a Float32Array on the server: how earlier TF.js federated systems sent weights;
//  - bytes: the encoded Update's bytes, acknowledged without decoding: the transport alone, so the codec's share
//    of the fedtl figure can be told apart from Socket.IO's.
import { once } from 'node:events';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeAck, decodeUpdate, emitWithAck, encodeAck, encodeUpdate, maxHttpBufferSizeFor, type ClientToServerEvents, type Update } from '@fedtl/protocol';
import { FedtlError } from '@fedtl/util';
import { Server } from 'socket.io';
import { io, type Socket } from 'socket.io-client';

const ACK_TIMEOUT_MS = 600_000;
const HEARTBEAT_MS = 600_000;
/** JSON writes a float32 value widened to a double with up to 17 significant digits, a sign, a point and a comma. */
const JSON_BYTES_PER_VALUE = 26;

/** What the link checked of its WebSocket: compression off, and ws's masking done by the native bufferutil. */
export interface WebSocketSettings {
  /** The server's per-message deflate option (false: off) and the extensions the client's WebSocket negotiated. */
  serverPerMessageDeflate: boolean;
  clientExtensions: string;
}

interface JsonEvents {
  'update-json': (values: number[], reply: (count: number) => void) => void;
  'update-bytes': (payload: Uint8Array, reply: (bytes: number) => void) => void;
}

export class SocketIoLink {
  private constructor(
    private readonly http: HttpServer,
    private readonly server: Server,
    private readonly client: Socket<Record<string, never>, ClientToServerEvents & JsonEvents>,
    /** Per Update the server decoded: whether every tensor came out as a view over the received message (no copy). */
    readonly decodedInPlace: boolean[],
  ) {}

  /** Listens on 127.0.0.1 port 0 with a buffer limit for Updates and JSON arrays of up to `maxFloats` values; connects. */
  static async open(maxFloats: number): Promise<SocketIoLink> {
    const decodedInPlace: boolean[] = [];
    const http = createServer();
    const server = new Server<ClientToServerEvents & JsonEvents>(http, {
      transports: ['websocket'],
      maxHttpBufferSize: Math.max(maxHttpBufferSizeFor(maxFloats * 4), maxFloats * JSON_BYTES_PER_VALUE + 65_536),
      serveClient: false,
      // One JSON transfer of 1e7 values holds this one event loop for tens of seconds, longer than Socket.IO's
      // default heartbeat allows (25 + 20 s); the coordinator sets these from its own options too.
      pingInterval: HEARTBEAT_MS,
      pingTimeout: HEARTBEAT_MS,
    });
    server.on('connection', (socket) => {
      socket.on('update', (payload, reply) => {
        const update = decodeUpdate(payload);
        decodedInPlace.push(update.delta.every((tensor) => tensor.data.buffer === payload.buffer));
        reply(encodeAck(update.delta.length === 1 ? { ok: true } : { ok: false, error: { code: 'FEDTL_ERR_BAD_TENSOR_NAME', message: 'expected one tensor' } }));
      });
      socket.on('update-json', (values, reply) => reply(Float32Array.from(values).length));
      socket.on('update-bytes', (payload, reply) => reply(payload.byteLength));
    });
    http.listen(0, '127.0.0.1');
    await once(http, 'listening');
    const { port } = http.address() as AddressInfo;
    const client = io(`http://127.0.0.1:${port}`, { transports: ['websocket'], reconnection: false });
    try {
      await new Promise<void>((resolve, reject) => {
        client.once('connect', resolve);
        client.once('connect_error', reject);
      });
    } catch (err) {
      client.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      throw err;
    }
    return new SocketIoLink(http, server as unknown as Server, client as never, decodedInPlace);
  }

  /** (a) encode, send, decode on the server, acknowledgement back. */
  async sendFedtl(update: Update): Promise<void> {
    const reply = decodeAck(await emitWithAck(this.client as never, 'update', encodeUpdate(update), ACK_TIMEOUT_MS));
    if (!reply.ok) throw new FedtlError('FEDTL_ERR_INTERNAL', `the bench server refused the update: ${reply.error?.message}`);
  }

  /** (b) the values as a JSON array of numbers, a Float32Array again on the server, acknowledgement back. */
  async sendJson(values: Float32Array): Promise<void> {
    const count = (await this.client.timeout(ACK_TIMEOUT_MS).emitWithAck('update-json', Array.from(values))) as number;
    if (count !== values.length) throw new FedtlError('FEDTL_ERR_INTERNAL', `expected the server to read ${values.length} values, it read ${count}`);
  }

  /** Already encoded bytes, acknowledged unread: Socket.IO's transport alone. */
  async sendBytes(payload: Uint8Array): Promise<void> {
    const bytes = (await this.client.timeout(ACK_TIMEOUT_MS).emitWithAck('update-bytes', payload)) as number;
    if (bytes !== payload.byteLength) throw new FedtlError('FEDTL_ERR_INTERNAL', `expected the server to receive ${payload.byteLength} bytes, it received ${bytes}`);
  }

  /** The WebSocket's settings as negotiated (engine.io-client keeps its ws WebSocket as the transport's `ws`). */
  webSocketSettings(): WebSocketSettings {
    const transport = this.client.io.engine.transport as unknown as { ws?: { extensions?: string } };
    return {
      serverPerMessageDeflate: Boolean((this.server.engine as unknown as { opts: { perMessageDeflate?: unknown } }).opts.perMessageDeflate),
      clientExtensions: transport.ws?.extensions ?? '',
    };
  }

  async close(): Promise<void> {
    this.client.close();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.http.closeAllConnections();
  }
}
