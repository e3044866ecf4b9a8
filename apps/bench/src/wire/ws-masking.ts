// Which masking code the WebSockets of Socket.IO run. ws masks every frame a client sends and unmasks every frame
// a server receives (RFC 6455 §5.3): a pass over the payload on each side, done by the native addon bufferutil when
// ws can load it (ws's lib/buffer-util.js requires it unless WS_NO_BUFFER_UTIL is set), in JavaScript otherwise;
// bufferutil itself falls back to JavaScript when its prebuilt binary does not load. engine.io-client (the
// client) and engine.io (the server) may each bring their own copy of ws; both are resolved as Node would.
import { createRequire } from 'node:module';

/** bufferutil's two functions, as ws calls them. */
export interface BufferUtil {
  mask(source: Buffer, mask: Buffer, output: Buffer, offset: number, length: number): void;
  unmask(buffer: Buffer, mask: Buffer): void;
}

export interface MaskingSide {
  /** The ws module this side loads. */
  ws: string;
  /** The bufferutil module that ws requires, or null when it cannot resolve one. */
  bufferutil: string | null;
  /** ws loads it (found, and WS_NO_BUFFER_UTIL unset) and it is the native addon, not its JavaScript fallback. */
  native: boolean;
}

export interface WebSocketMasking {
  client: MaskingSide;
  server: MaskingSide;
}

/** The masking code of the client's and the server's ws. */
export function webSocketMasking(): WebSocketMasking {
  return { client: sideOf('engine.io-client'), server: sideOf('engine.io') };
}

/** The bufferutil the client's ws uses, to time its passes alone; null when ws masks in JavaScript. */
export function clientBufferUtil(): BufferUtil | null {
  const side = sideOf('engine.io-client');
  return side.native && side.bufferutil ? (createRequire(side.ws)(side.bufferutil) as BufferUtil) : null;
}

function sideOf(engine: string): MaskingSide {
  const ws = createRequire(require.resolve(engine)).resolve('ws');
  let bufferutil: string | null = null;
  try {
    bufferutil = createRequire(ws).resolve('bufferutil');
  } catch {
    return { ws, bufferutil, native: false };
  }
  const loaded = createRequire(ws)(bufferutil) as BufferUtil;
  const native = !process.env.WS_NO_BUFFER_UTIL && String(loaded.mask).includes('[native code]');
  return { ws, bufferutil, native };
}
