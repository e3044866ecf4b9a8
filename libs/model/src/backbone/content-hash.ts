// Content hashes that pin a backbone: sha256 over its files, so two machines agree on the exact weights and
// vocabulary whatever the files' location. Each file enters as `name\nbyteLength\n` followed by its bytes, so
// moving bytes from one file to the next changes the hash. A recipe string (tokenizer algorithm version and
// settings that change features) goes first: fixing the tokenizer then changes the hash too, which also
// invalidates feature caches computed the old way.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';

export interface NamedBytes {
  name: string;
  bytes: Uint8Array;
}

export function hashContents(recipe: string, files: readonly NamedBytes[]): string {
  const hash = createHash('sha256');
  hash.update(`${recipe}\n`);
  for (const { name, bytes } of files) {
    hash.update(`${name}\n${bytes.byteLength}\n`);
    hash.update(bytes);
  }
  return hash.digest('hex');
}

/** Reads `names` (relative to `dir`) in order. */
export async function readNamedFiles(dir: string, names: readonly string[]): Promise<NamedBytes[]> {
  return Promise.all(names.map(async (name) => ({ name, bytes: await readFile(path.join(dir, name)) })));
}

/** The exact bytes of a Node Buffer as an ArrayBuffer (small Buffers share a pooled ArrayBuffer). */
export function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) return bytes.buffer as ArrayBuffer;
  return new Uint8Array(bytes).buffer;
}
