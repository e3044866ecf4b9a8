// A loopback TCP proxy whose connections a test can cut, to make a real network drop between two peers.
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export class TcpProxy {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  private constructor(private readonly targetPort: number) {
    this.server = createServer((incoming) => {
      const outgoing = connect(this.targetPort, '127.0.0.1');
      for (const [a, b] of [[incoming, outgoing], [outgoing, incoming]] as const) {
        this.sockets.add(a);
        a.on('close', () => {
          this.sockets.delete(a);
          b.destroy();
        });
        a.on('error', () => a.destroy());
        a.pipe(b);
      }
    });
  }

  /** Starts a proxy on 127.0.0.1 (port 0) that forwards to 127.0.0.1:targetPort. */
  static async start(targetPort: number): Promise<TcpProxy> {
    const proxy = new TcpProxy(targetPort);
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Destroys every open connection, as a network failure would; new connections are still accepted. */
  dropConnections(): number {
    const count = this.sockets.size;
    for (const socket of this.sockets) socket.destroy();
    return count;
  }

  /**
   * Stops forwarding on every open connection without closing it: each peer's link goes silent but stays open,
   * the half-open state a network drop leaves until a heartbeat notices.
   */
  freezeConnections(): number {
    for (const socket of this.sockets) {
      socket.unpipe();
      socket.pause();
    }
    return this.sockets.size / 2;
  }

  async close(): Promise<void> {
    this.dropConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
