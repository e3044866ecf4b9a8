// The federation's labels for a coordinator child process. On its command line `--labels a,b` is a comma-separated
// list (split at every comma, items trimmed), so a dataset label holding a comma would arrive as two labels; a
// config file carries a real list, so every suite that starts a coordinator with data-derived labels passes them
// in one.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The config file's name in the run's folder. */
export const LABELS_CONFIG_FILE = 'coordinator-labels.json';

/**
 * Writes `{"labels": [...]}` into `dir` and returns the coordinator's arguments that read it (`--config FILE`),
 * to use in place of `--labels`: every label reaches the coordinator as it is, commas included.
 */
export async function coordinatorLabelArgs(dir: string, labels: readonly string[]): Promise<string[]> {
  const file = join(dir, LABELS_CONFIG_FILE);
  await writeFile(file, JSON.stringify({ labels }) + '\n');
  return ['--config', file];
}
