// Every text file a user hands fedtl (datasets, config and feature files) is read as UTF-8, through here.
// Spreadsheets and Windows editors also save UTF-16 or UTF-32 with a byte-order mark; read as UTF-8 such a
// file turns into names full of \u0000 and a baffling "missing column". So the encoding is checked first and
// named, with the fix, instead. A UTF-8 byte-order mark is not data and is dropped.
import { createReadStream, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { FedtlError, configError } from '@fedtl/util';

const UTF8_BOM = [0xef, 0xbb, 0xbf];
/** Longest first: UTF-32LE's mark starts with UTF-16LE's. */
const FOREIGN_BOMS: ReadonlyArray<{ name: string; bytes: readonly number[] }> = [
  { name: 'UTF-32LE', bytes: [0xff, 0xfe, 0x00, 0x00] },
  { name: 'UTF-32BE', bytes: [0x00, 0x00, 0xfe, 0xff] },
  { name: 'UTF-16LE', bytes: [0xff, 0xfe] },
  { name: 'UTF-16BE', bytes: [0xfe, 0xff] },
];
/** UTF-16 without a mark shows as NUL bytes early on; text never holds NUL, so this many bytes are looked at. */
const NUL_WINDOW = 4096;

/**
 * Reads a whole user text file as UTF-8 (a UTF-8 byte-order mark dropped).
 * @throws FedtlError FEDTL_ERR_BAD_ENCODING naming the file and the encoding found (UTF-16/32 byte-order mark,
 * NUL bytes) or the byte offset of the first invalid UTF-8 sequence, and the fix.
 */
export async function readUserText(path: string): Promise<string> {
  return decodeUserText(await readFile(path), path);
}

/** readUserText for start-up code that is synchronous (config files). Same errors. */
export function readUserTextSync(path: string): string {
  return decodeUserText(readFileSync(path), path);
}

/** Decodes a user file's bytes; `path` names it in errors. Same errors as readUserText. */
export function decodeUserText(bytes: Uint8Array, path: string): string {
  const body = checkStart(bytes, path);
  const offset = bytes.length - body.length;
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body);
  } catch {
    throw invalidUtf8(path, offset + firstInvalidUtf8Offset(body));
  }
}

/**
 * A user text file as a stream of UTF-8 strings, so a large dataset never sits in memory as one string.
 * Errors as readUserText, thrown when the bad bytes are reached.
 */
export async function* userTextChunks(path: string): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let first = true;
  try {
    for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
      const body = first ? checkStart(chunk, path) : chunk;
      first = false;
      yield decoder.decode(body, { stream: true });
    }
    yield decoder.decode();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_ENCODING_INVALID_ENCODED_DATA') throw err;
    // The decoder does not say where; the error path can afford to read the file again to find out.
    const bytes = await readFile(path);
    const start = startsWith(bytes, UTF8_BOM) ? UTF8_BOM.length : 0;
    throw invalidUtf8(path, start + firstInvalidUtf8Offset(bytes.subarray(start)));
  }
}

/** The bytes after a UTF-8 byte-order mark; throws for a UTF-16/32 mark or NUL bytes near the start. */
function checkStart(bytes: Uint8Array, path: string): Uint8Array {
  if (startsWith(bytes, UTF8_BOM)) return bytes.subarray(UTF8_BOM.length);
  const foreign = FOREIGN_BOMS.find((bom) => startsWith(bytes, bom.bytes));
  if (foreign) throw badEncoding(path, `it is ${foreign.name} (it starts with that encoding's byte-order mark)`, { encoding: foreign.name });
  const nul = bytes.subarray(0, NUL_WINDOW).indexOf(0);
  if (nul >= 0) {
    throw badEncoding(path, `it holds a NUL byte at byte offset ${nul}, as UTF-16 or UTF-32 text without a byte-order mark does`, { offset: nul });
  }
  return bytes;
}

function startsWith(bytes: Uint8Array, prefix: readonly number[]): boolean {
  return bytes.length >= prefix.length && prefix.every((byte, i) => bytes[i] === byte);
}

/**
 * Index of the first byte that starts an invalid UTF-8 sequence (bad lead byte, missing or stray continuation,
 * overlong form, surrogate, above U+10FFFF); `bytes.length` when all of it is valid.
 */
export function firstInvalidUtf8Offset(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i];
    if (lead < 0x80) {
      i++;
      continue;
    }
    // [length, lowest and highest allowed second byte] per RFC 3629's table: excludes overlongs and surrogates.
    let length: number;
    let low = 0x80;
    let high = 0xbf;
    if (lead >= 0xc2 && lead <= 0xdf) length = 2;
    else if (lead >= 0xe0 && lead <= 0xef) {
      length = 3;
      if (lead === 0xe0) low = 0xa0;
      if (lead === 0xed) high = 0x9f;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      length = 4;
      if (lead === 0xf0) low = 0x90;
      if (lead === 0xf4) high = 0x8f;
    } else return i;
    if (i + length > bytes.length) return i;
    if (bytes[i + 1] < low || bytes[i + 1] > high) return i;
    for (let k = 2; k < length; k++) if ((bytes[i + k] & 0xc0) !== 0x80) return i;
    i += length;
  }
  return bytes.length;
}

function invalidUtf8(path: string, offset: number): FedtlError {
  return badEncoding(path, `it is not valid UTF-8: the first invalid byte sequence is at byte offset ${offset}`, { offset });
}

function badEncoding(path: string, found: string, details: Record<string, unknown>): FedtlError {
  return new FedtlError(
    'FEDTL_ERR_BAD_ENCODING',
    `${path}: expected a UTF-8 text file, but ${found}. Save it as UTF-8 (in a spreadsheet: "CSV UTF-8"; in an editor: encoding UTF-8) and try again`,
    { file: path, ...details },
  );
}

/**
 * A secret kept in a file (Docker and Kubernetes secrets are files): its content without the trailing newline.
 * @throws FedtlError FEDTL_ERR_BAD_CONFIG naming `option` when the file cannot be read or holds no secret (it is
 *   empty or only whitespace: taken as "no token", it would leave a federation open).
 */
export function readSecretFile(option: string, path: string): string {
  let secret: string;
  try {
    secret = readUserTextSync(path).replace(/\r?\n$/, '');
  } catch (err) {
    throw configError(option, 'a readable file holding the secret', `${path} (${(err as Error).message})`);
  }
  if (secret.trim() === '') throw configError(option, 'a file holding a secret', `${path} (${secret === '' ? 'empty' : 'only whitespace'})`);
  return secret;
}
