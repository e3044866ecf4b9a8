// Telling a live connection from a dead one that has not timed out yet (a half-open TCP link after a network
// drop): the live one keeps answering the heartbeat, the dead one is closed by it.
import type { Socket } from 'socket.io';

export type Liveness = 'alive' | 'gone';

/** engine.io's Socket sends protocol packets with this method; its typings keep it private. */
interface EngineSocket {
  sendPacket(type: 'ping'): void;
}

/**
 * Pings `socket` and waits for a sign of life after this call: any packet it receives (the pong, or a message)
 * means 'alive'; closing first means 'gone'. The heartbeat closes a dead
 * connection within heartbeatInterval + heartbeatTimeout, so `maxWaitMs` (at least that) is only a backstop,
 * and answers 'alive' (the safe side: the live holder keeps its id).
 * @param maxWaitMs milliseconds to wait at most
 */
export function probeLiveness(socket: Socket, maxWaitMs: number): Promise<Liveness> {
  if (socket.disconnected) return Promise.resolve('gone');
  return new Promise((resolve) => {
    const finish = (answer: Liveness) => {
      clearTimeout(timer);
      socket.conn.off('packet', onPacket);
      socket.off('disconnect', onDisconnect);
      resolve(answer);
    };
    const onPacket = () => finish('alive');
    const onDisconnect = () => finish('gone');
    const timer = setTimeout(() => finish('alive'), maxWaitMs);
    timer.unref?.();
    socket.conn.on('packet', onPacket);
    socket.on('disconnect', onDisconnect);
    // Ask now instead of waiting for the next scheduled heartbeat (up to an interval away): an Engine.IO peer
    // answers a ping with a pong at once, a dead one never does and the heartbeat timeout closes it.
    (socket.conn as unknown as EngineSocket).sendPacket('ping');
  });
}
