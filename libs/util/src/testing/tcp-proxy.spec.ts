import { createServer, connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { TcpProxy } from './tcp-proxy';
import { useTestSandbox, waitFor } from './index';

describe('TcpProxy', () => {
  const sandbox = useTestSandbox();
  let proxy: TcpProxy;

  beforeEach(async () => {
    const echo = createServer((socket) => socket.pipe(socket));
    sandbox.defer(() => new Promise<void>((resolve) => echo.close(() => resolve())));
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    const started = await TcpProxy.start((echo.address() as AddressInfo).port);
    sandbox.defer(() => started.close());
    proxy = started;
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
