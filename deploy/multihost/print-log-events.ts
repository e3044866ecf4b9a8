// Prints the lines of a JSON log (--log-format json) that matter to the link-cut story, one short line each:
//   node --import tsx deploy/multihost/print-log-events.ts LOG_FILE LABEL CLIENT_ID MESSAGE_PREFIX...
// A line is kept when its `msg` starts with one of the prefixes and it is about CLIENT_ID (or names no client).
import { readFileSync } from 'node:fs';

/** Printed in the line's own prefix, or not worth the space (the coordinator's runId is on every line). */
const HEADER_KEYS = new Set(['time', 'level', 'module', 'msg', 'clientId', 'runId']);

function main(): void {
  const [path, label, clientId, ...prefixes] = process.argv.slice(2);
  if (!path || !label || !clientId || prefixes.length === 0) throw new Error('usage: print-log-events.ts LOG_FILE LABEL CLIENT_ID MESSAGE_PREFIX...');
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    const record = JSON.parse(line) as Record<string, unknown>;
    const { time, msg, clientId: about } = record;
    const fields = Object.fromEntries(Object.entries(record).filter(([key]) => !HEADER_KEYS.has(key)));
    if (typeof msg !== 'string' || !prefixes.some((p) => msg.startsWith(p))) continue;
    if (about !== undefined && about !== clientId) continue;
    process.stdout.write(`  ${label} ${String(time).slice(11, 23)}  ${msg} ${JSON.stringify(fields)}\n`);
  }
}

main();
