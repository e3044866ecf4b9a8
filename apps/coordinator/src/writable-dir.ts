// A directory the coordinator writes to is checked when it starts, not after the first round of training: a
// read-only, full or misplaced --out-dir then fails at once, with the directory and the OS error named.
import { mkdir, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { FedtlError, errorMessage } from '@fedtl/util';

/**
 * Creates `dir` if needed and proves it writable by writing, syncing and removing a probe file.
 * `option` names the flag the directory comes from (e.g. `--out-dir`), for the message.
 * @throws FedtlError FEDTL_ERR_BAD_CONFIG naming the directory and the OS error code (EACCES, EROFS, ENOSPC,
 * ENOTDIR…) when it cannot be created or written.
 */
export async function ensureWritableDir(dir: string, option: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    throw notWritable(dir, option, 'cannot be created', err);
  }
  const probe = join(dir, `.fedtl-write-probe-${process.pid}`);
  try {
    const file = await open(probe, 'w');
    try {
      await file.writeFile('probe\n');
      await file.sync();
    } finally {
      await file.close();
    }
  } catch (err) {
    await unlink(probe).catch(() => undefined);
    throw notWritable(dir, option, 'is not writable', err);
  }
  try {
    await unlink(probe);
  } catch (err) {
    throw notWritable(dir, option, 'does not let files be removed', err);
  }
}

function notWritable(dir: string, option: string, what: string, err: unknown): FedtlError {
  const code = (err as NodeJS.ErrnoException).code ?? 'unknown error';
  return new FedtlError(
    'FEDTL_ERR_BAD_CONFIG',
    `${option}: expected a writable directory, but ${dir} ${what} (${code}: ${errorMessage(err)}); fix its permissions or free space, or choose another directory`,
    { dir, option, osError: code },
  );
}
