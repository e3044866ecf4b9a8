// A Writable that stands in for a terminal (isTTY, columns) and keeps what was written, for tests of what is
// drawn only on terminals (progress bars, pretty logs).
import { Writable } from 'node:stream';

export type FakeTerminal = Writable & { isTTY: boolean; columns: number; text: () => string };

/** A stream with `isTTY` (default true) and `columns` (default 160); `text()` is everything written so far. */
export function fakeTerminal(options: { isTTY?: boolean; columns?: number; chunks?: string[] } = {}): FakeTerminal {
  const chunks = options.chunks ?? [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  return Object.assign(stream, { isTTY: options.isTTY ?? true, columns: options.columns ?? 160, text: () => chunks.join('') });
}
