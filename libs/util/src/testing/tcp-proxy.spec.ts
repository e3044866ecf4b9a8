import { createServer, connect, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { TcpProxy } from './tcp-proxy';
import { waitFor } from './index';

describe('TcpProxy', () => {
  let echo: Server;
  let proxy: TcpProxy;

  beforeEach(async () => {
    echo = createServer((socket) => socket.pipe(socket));
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    proxy = await TcpProxy.start((echo.address() as AddressInfo).port);
  });

  afterEach(async () => {
    await proxy.close();
    await new Promise<void>((resolve) => echo.close(() => resolve()));
  });

  it('forwards bytes both ways and cuts connections on demand', async () => {
    const socket = connect(proxy.port, '127.0.0.1');
    await waitFor(socket, 'connect');
    socket.write('ping');
    const [data] = await waitFor<[Buffer]>(socket, 'data');
    expect(data.toString()).toBe('ping');
    const closed = waitFor(socket, 'close');
    expect(proxy.dropConnections()).toBeGreaterThan(0);
    await closed;
  });
});
