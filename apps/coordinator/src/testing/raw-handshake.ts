// Test support: a WebSocket upgrade written by hand on a TCP connection, followed at once (without waiting for
// the answer) by one large binary frame, as a peer that tries to make the coordinator buffer data would.
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';

export interface RawHandshakeResult {
  /** The HTTP status the coordinator answered: 101 when it accepted the WebSocket. */
  status: number;
  /** The answer's head and body (the refusal reason), up to the first 1 KB. */
  answer: string;
  /**
   * A socket error, e.g. EPIPE or ECONNRESET when the coordinator closed the connection while the frame was
   * still being written (the refusal's status may then be lost in the reset: status 0).
   */
  error?: string;
}

/** One masked binary WebSocket frame of `size` bytes (masked with zeros: the payload goes out as it is). */
function binaryFrame(size: number): Buffer {
  const header = Buffer.alloc(14);
  header[0] = 0x82;
  header[1] = 0x80 | 127;
  header.writeBigUInt64BE(BigInt(size), 2);
  return Buffer.concat([header, Buffer.alloc(size, 0x41)]);
}

/**
 * Sends a Socket.IO WebSocket upgrade to `url` with `headers`, then `frameBytes` of binary frame straight away.
 * Resolves once the connection was opened (101) or closed; rejects only when it cannot connect at all.
 */
export function rawHandshake(url: string, headers: Record<string, string>, frameBytes = 0): Promise<RawHandshakeResult> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let answer = '';
    let connected = false;
    let error: string | undefined;
    const done = () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);
      socket.destroy();
      resolve({ status, answer: answer.slice(0, 1024), ...(error ? { error } : {}) });
    };
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (!connected) reject(err);
      error = err.code ?? err.message;
    });
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
      if (answer.startsWith('HTTP/1.1 101')) done();
    });
    socket.on('close', () => done());
    socket.on('connect', () => {
      connected = true;
      const lines = [
        `GET /socket.io/?EIO=4&transport=websocket HTTP/1.1`,
        `Host: ${hostname}:${port}`,
        'Upgrade: websocket',
        'Connection: Upgrade',
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
        'Sec-WebSocket-Version: 13',
        ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
      ];
      socket.write(lines.join('\r\n') + '\r\n\r\n');
      if (frameBytes > 0) socket.write(binaryFrame(frameBytes), () => undefined);
    });
  });
}
