// Variant (c) of the wire benchmark, the ceiling: the same bytes over a plain TCP connection on 127.0.0.1
// (port 0), in this process. The sender writes a 4-byte little-endian length and the bytes; the receiver copies
// the chunks into one buffer of that length (the least a receiver that needs the message whole can do) and
// answers one byte once it has them all.
import { once } from 'node:events';
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { FedtlError } from '@fedtl/util';

const LENGTH_PREFIX_BYTES = 4;

export class RawTcpLink {
  private acknowledged: (() => void) | null = null;

  private constructor(
    private readonly server: Server,
    private readonly client: Socket,
  ) {
    client.on('data', () => {
      const done = this.acknowledged;
      this.acknowledged = null;
      done?.();
    });
  }

  static async open(): Promise<RawTcpLink> {
    const server = createServer((socket) => receiveMessages(socket));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const client = createConnection((server.address() as AddressInfo).port, '127.0.0.1');
    client.setNoDelay(true);
    await once(client, 'connect');
    return new RawTcpLink(server, client);
  }

  /** Writes `payload` and resolves once the receiver has all of it in one buffer. */
  send(payload: Uint8Array): Promise<void> {
    if (this.acknowledged) throw new FedtlError('FEDTL_ERR_INTERNAL', 'RawTcpLink.send: one message at a time');
    return new Promise((resolve) => {
      this.acknowledged = resolve;
      const prefix = Buffer.allocUnsafe(LENGTH_PREFIX_BYTES);
      prefix.writeUInt32LE(payload.byteLength, 0);
      this.client.cork();
      this.client.write(prefix);
      this.client.write(payload);
      this.client.uncork();
    });
  }

  async close(): Promise<void> {
    this.client.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Reads length-prefixed messages from `socket`, each into one buffer, and acknowledges each with one byte. */
function receiveMessages(socket: Socket): void {
  socket.setNoDelay(true);
  let header = Buffer.alloc(0);
  let message: Buffer | null = null;
  let received = 0;
  socket.on('data', (chunk: Buffer) => {
    while (chunk.length > 0) {
      if (!message) {
        header = Buffer.concat([header, chunk]);
        if (header.length < LENGTH_PREFIX_BYTES) return;
        message = Buffer.allocUnsafe(header.readUInt32LE(0));
        chunk = header.subarray(LENGTH_PREFIX_BYTES);
        header = Buffer.alloc(0);
        received = 0;
      }
      const take = Math.min(chunk.length, message.length - received);
      chunk.copy(message, received, 0, take);
      received += take;
      chunk = chunk.subarray(take);
      if (received === message.length) {
        message = null;
        socket.write(Buffer.from([1]));
      }
    }
  });
  socket.on('error', () => socket.destroy());
}
