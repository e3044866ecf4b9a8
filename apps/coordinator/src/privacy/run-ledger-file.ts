// The run's privacy ledger on disk, `<out-dir>/privacy-ledger.json`: `{ "version": 1, "runId", "events" }`, replaced
// atomically (temp file, fsync, rename) every time the ledger is charged, before what was charged is released.
// Checkpoints carry a copy of the ledger too, but only of aggregated rounds: charges of attempts that failed or
// were abandoned, and of rounds after the checkpoint a resume falls back to, live here. A resumed run takes the
// longer of the two, so a restart never gives budget back.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PrivacyLedger, type PrivacyEvent } from '@fedtl/privacy';
import { FedtlError, errorMessage } from '@fedtl/util';
import writeFileAtomic from 'write-file-atomic';

export const RUN_LEDGER_FILE = 'privacy-ledger.json';
const VERSION = 1;

export interface RunLedger {
  runId: string;
  events: PrivacyEvent[];
}

/** The ledger file of a run directory. */
export function runLedgerPath(outDir: string): string {
  return join(outDir, RUN_LEDGER_FILE);
}

/**
 * Reads a run's ledger file; null when there is none.
 * @throws FedtlError FEDTL_ERR_CHECKPOINT_CORRUPT naming the file when it cannot be read or is not a ledger: a
 *   damaged ledger must stop the run, never resume as a blank one.
 */
export async function readRunLedger(path: string): Promise<RunLedger | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw corrupt(path, errorMessage(err));
  }
  let file: { version?: unknown; runId?: unknown; events?: unknown };
  try {
    file = JSON.parse(text) as typeof file;
  } catch (err) {
    throw corrupt(path, `not JSON (${errorMessage(err)})`);
  }
  if (file?.version !== VERSION) throw corrupt(path, `expected version ${VERSION}, got ${JSON.stringify(file?.version)}`);
  if (typeof file.runId !== 'string' || file.runId === '') throw corrupt(path, `expected a run id, got ${JSON.stringify(file.runId)}`);
  try {
    return { runId: file.runId, events: PrivacyLedger.fromJSON(file.events, 'events').toJSON() };
  } catch (err) {
    throw corrupt(path, errorMessage(err));
  }
}

/** Replaces the ledger file atomically (write-file-atomic: temp file, fsync, rename): a crash leaves the old or the new ledger, never half of one. */
export async function writeRunLedger(path: string, ledger: RunLedger): Promise<void> {
  await writeFileAtomic(path, JSON.stringify({ version: VERSION, runId: ledger.runId, events: ledger.events }, null, 1), { mode: 0o600 });
}

function corrupt(path: string, why: string): FedtlError {
  return new FedtlError(
    'FEDTL_ERR_CHECKPOINT_CORRUPT',
    `${path}: expected the run's privacy ledger, got ${why}; it is never reset: restore it from a backup, or start another run (--fresh or another --out-dir)`,
  );
}
