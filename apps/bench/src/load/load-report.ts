// The load benchmark's results as markdown: the machine, one table row per scenario, and the memory scaling
// comparison in words a README reader can check against the table.
import { describeMachine, type MachineInfo } from '../machine';
import type { MemoryScaling } from './memory-scaling';
import type { ScenarioResult } from './load-scenario';

const MIB = 2 ** 20;
const KIB = 2 ** 10;

const mib = (bytes: number) => (bytes / MIB).toFixed(1);
const kib = (bytes: number) => (bytes / KIB).toFixed(1);
const fixed = (value: number, digits: number) => (Number.isFinite(value) ? value.toFixed(digits) : '-');

export function formatLoadReport(machine: MachineInfo, results: ScenarioResult[], scaling: MemoryScaling): string {
  const lines = [
    `Machine: ${describeMachine(machine)}.`,
    '',
    'The coordinator runs in its own process; the simulated clients share one other process on the same machine, one',
    'WebSocket each. Idle RSS is the coordinator listening with no client; peak is its high-water mark (VmHWM) over the',
    'scenario. Latency is one round from its plans to its evaluation; bytes are payloads both ways.',
    '',
    '| clients | adapter width | model (params / KiB) | rounds | rounds/min | idle RSS (MiB) | peak RSS (MiB) | latency median (s) | latency p95 (s) | MiB per round |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...results.map(
      (r) =>
        `| ${r.clients} | ${r.adapterWidth} | ${r.modelParameters} / ${kib(r.modelBytes)} | ${r.roundsCompleted}/${r.rounds} | ${fixed(r.roundsPerMinute, 1)} | ` +
        `${mib(r.idleRssBytes)} | ${mib(r.peakRssBytes)} | ${fixed(r.latencySeconds.median, 2)} | ${fixed(r.latencySeconds.p95, 2)} | ${fixed(r.bytesPerRound / MIB, 1)} |`,
    ),
    '',
  ];
  for (const s of scaling.byClients) {
    lines.push(
      `- Adapter width ${s.adapterWidth} (${kib(s.modelBytes)} KiB model): ${s.fromClients} → ${s.toClients} clients (x${fixed(s.clientRatio, 0)}) ` +
        `raised peak RSS x${fixed(s.peakRssRatio, 2)}, ${kib(s.peakRssBytesPerClient)} KiB per extra client.`,
    );
  }
  if (scaling.byModel) {
    const m = scaling.byModel;
    lines.push(
      `- At ${m.clients} clients, the x${fixed(m.modelRatio, 1)} larger model raised peak RSS x${fixed(m.peakRssRatio, 2)} (+${mib(m.peakRssGrowthBytes)} MiB); ` +
        `one model copy per client would add +${mib(m.copyPerClientBytes)} MiB.`,
    );
  }
  if (scaling.modelCopiesPerClient !== null) {
    const copies = fixed(scaling.modelCopiesPerClient, 2);
    lines.push(
      scaling.growsWithModelNotClients
        ? `- Verdict: peak memory grows with model size, not N x model size: ${copies} model copies held per client.`
        : `- Verdict: FAILED: peak memory grows with N x model size: ${copies} model copies held per client (the limit is 0.5).`,
    );
  }
  return lines.join('\n') + '\n';
}
