// The multi-host run's verdict, from the coordinator's metrics.jsonl:
//   node --import tsx deploy/multihost/check-metrics.ts METRICS_JSONL ROUNDS CUT_ROUND CUT_CLIENT
// Prints one line per round attempt, then exits 1 with the reason unless every round 1..ROUNDS was aggregated
// and the cut client's update counted both in the round it was cut in and in the last round.
import { readFileSync } from 'node:fs';
import type { RoundRecord } from '../../apps/coordinator/src/metrics-log';

function main(): number {
  const [path, roundsArg, cutRoundArg, cutClient] = process.argv.slice(2);
  if (!path || !roundsArg || !cutRoundArg || !cutClient) throw new Error('usage: check-metrics.ts METRICS_JSONL ROUNDS CUT_ROUND CUT_CLIENT');
  const rounds = Number(roundsArg);
  const cutRound = Number(cutRoundArg);
  const records: RoundRecord[] = readFileSync(path, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line));
  for (const r of records) {
    const failures = r.failures.map((f) => `${f.clientId}:${f.code}`).join(' ');
    process.stdout.write(
      `  round ${r.round} attempt ${r.attempt} ${r.status.padEnd(10)} ${r.seconds.toFixed(1).padStart(6)}s  accepted [${r.accepted.join(', ')}]` +
        `${failures ? `  failures [${failures}]` : ''}  accuracy ${r.evaluation.accuracy ?? '-'}\n`,
    );
  }
  const aggregated = new Map(records.filter((r) => r.status === 'aggregated').map((r) => [r.round, r]));
  const problems: string[] = [];
  for (let round = 1; round <= rounds; round++) {
    if (!aggregated.has(round)) problems.push(`round ${round} was never aggregated`);
  }
  for (const round of new Set([cutRound, rounds])) {
    const record = aggregated.get(round);
    if (record && !record.accepted.includes(cutClient)) problems.push(`round ${round} was aggregated without ${cutClient}`);
  }
  for (const problem of problems) process.stderr.write(`multihost: FAILED: ${problem}\n`);
  return problems.length === 0 ? 0 : 1;
}

process.exitCode = main();
