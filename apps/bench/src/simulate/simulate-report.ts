// The simulation's report: the machine and its load, the run's settings, one row per round (seconds, clients
// sampled, bytes each way, the global model's test accuracy), the wall time and peak memory of both processes
// against the target, and what dominates each — worked out from the figures, not written in advance.
import { describeMachine, type MachineInfo } from '../machine';
import type { EmbeddingSummary } from '../domains/feature-store';
import type { SimulationResult } from './simulation-run';

/** Issue 14's target: 1,000 clients, 10 per round, 20 rounds within 15 minutes and under 2 GiB per process. */
export const TARGET = { wallSeconds: 15 * 60, peakRssBytes: 2 * 2 ** 30 } as const;

export interface SimulateReport {
  command: string;
  machine: MachineInfo;
  /** 1-, 5- and 15-minute load averages when the suite started and when it ended (other work shares the machine). */
  loadAverage: { start: number[]; end: number[] };
  data: {
    files: string[];
    partition: string;
    trainRows: number;
    testRows: number;
    testSource: string;
    labels: string[];
    embedding: EmbeddingSummary;
  };
  /** Wall seconds before the federation: reading the data, embedding it (or reading the cache), partitioning. */
  preparationSeconds: { read: number; embed: number; partition: number };
  result: SimulationResult;
  /** From the suite's start to its end, preparation included. */
  totalSeconds: number;
  target: { wallSeconds: number; peakRssBytes: number; met: boolean };
  dominant: { time: string; memory: string };
}

const MIB = 2 ** 20;
const mib = (bytes: number) => (bytes / MIB).toFixed(0);
const fixed = (value: number | undefined, digits: number) => (value !== undefined && Number.isFinite(value) ? value.toFixed(digits) : '-');
const percent = (value: number | undefined) => (value !== undefined && Number.isFinite(value) ? `${(100 * value).toFixed(1)}%` : '-');

/** Whether the run met TARGET: every round completed, within the wall time, each process under the memory bound. */
export function metTarget(result: SimulationResult, totalSeconds: number): boolean {
  const { simulation, coordinator } = result.memory;
  return (
    result.verdict === 'finished' &&
    result.roundsCompleted === result.roundsPlanned &&
    totalSeconds <= TARGET.wallSeconds &&
    simulation.peakRssBytes < TARGET.peakRssBytes &&
    coordinator.peakRssBytes < TARGET.peakRssBytes
  );
}

/** Where the wall time went, largest stage first, and how busy the training workers were during the rounds. */
export function dominantTime(result: SimulationResult, preparation: SimulateReport['preparationSeconds']): string {
  const stages: Array<[string, number]> = [
    ['reading the data', preparation.read],
    ['embedding (or reading the feature cache)', preparation.embed],
    ['partitioning', preparation.partition],
    ['starting the coordinator process', result.seconds.coordinatorStart],
    ['starting the training workers', result.seconds.poolStart],
    [`connecting and joining ${result.clients} virtual clients`, result.seconds.connect],
    [`${result.roundsCompleted} rounds`, result.seconds.rounds],
  ];
  stages.sort((a, b) => b[1] - a[1]);
  const total = stages.reduce((sum, [, s]) => sum + s, 0);
  const roundSeconds = result.rounds.reduce((sum, r) => sum + r.seconds, 0);
  const busy = result.pool.trainingSeconds / (result.workers * Math.max(roundSeconds, 1e-9));
  const perRound = result.rounds.length > 0 ? roundSeconds / result.rounds.length : NaN;
  const perJob = result.pool.jobs > 0 ? result.pool.trainingSeconds / Math.max(1, result.clientsPerRound * result.roundsCompleted) : NaN;
  return (
    `${stages[0][0]} (${fixed(stages[0][1], 1)} s of ${fixed(total, 1)} s), then ${stages[1][0]} (${fixed(stages[1][1], 1)} s). ` +
    `A round took ${fixed(perRound, 2)} s on average as the coordinator measured it (plans out to checkpoint written); ` +
    `one client's local training took ${fixed(perJob, 3)} s in a worker, so the ${result.workers} workers were busy training ${percent(busy)} of the rounds' time ` +
    `and the rest is the protocol (plans, updates, acknowledgements over ${result.clients} sockets), aggregation and the checkpoint, each round.`
  );
}

/**
 * Which stage raised each process's memory most. `embeddedTexts` > 0 when this run embedded texts: the backbone's
 * workers then set the simulation's peak before the federation started, when the peak is above every stage.
 */
export function dominantMemory(result: SimulationResult, embeddedTexts = 0): string {
  const { simulation, coordinator } = result.memory;
  const steps = simulation.stages.slice(1).map((stage, i) => ({ stage: stage.stage, growth: stage.rssBytes - simulation.stages[i].rssBytes }));
  steps.unshift({ stage: 'up to features ready (Node.js, the modules, the texts and their features)', growth: simulation.stages[0]?.rssBytes ?? NaN });
  steps.sort((a, b) => b.growth - a.growth);
  const joined = simulation.stages.find((s) => s.stage.endsWith('virtual clients joined'));
  const before = simulation.stages[simulation.stages.indexOf(joined as never) - 1];
  const perClient = joined && before ? (joined.rssBytes - before.rssBytes) / result.clients : NaN;
  const coordinatorPerClient = (coordinator.joinedRssBytes - coordinator.idleRssBytes) / result.clients;
  // RSS moves with the garbage collector: growth below zero is no measurable growth, not memory given back per client.
  const perClientText = (bytes: number) => (bytes > 0 ? `${fixed(bytes / 1024, 0)} KiB per client` : 'no measurable growth per client');
  const highestStage = Math.max(...simulation.stages.map((stage) => stage.rssBytes));
  const peakWhileEmbedding = embeddedTexts > 0 && simulation.peakRssBytes > 1.1 * highestStage;
  return (
    `Simulation process: peak ${mib(simulation.peakRssBytes)} MiB (VmHWM)` +
    (peakWhileEmbedding ? `, reached while embedding ${embeddedTexts} texts (the backbone in each embedding worker), above every stage of the federation (at most ${mib(highestStage)} MiB)` : '') +
    `; of its resident memory at the stages, "${steps[0].stage}" added the most ` +
    `(${mib(steps[0].growth)} MiB); the virtual clients' sockets: ${perClientText(perClient)}. ` +
    `Coordinator: ${mib(coordinator.idleRssBytes)} MiB listening, ${mib(coordinator.joinedRssBytes)} MiB with ${result.clients} clients joined ` +
    `(${perClientText(coordinatorPerClient)}), peak ${mib(coordinator.peakRssBytes)} MiB: its Node.js baseline dominates, ` +
    `the model (${result.modelParameters} parameters, ${fixed((result.modelParameters * 4) / 1024, 0)} KiB) is held a few times, not once per client.`
  );
}

/** The report as markdown: settings, the per-round table, stage timings, memory by stage, the target and what dominates. */
export function formatSimulateReport(report: SimulateReport): string {
  const r = report.result;
  const { simulation, coordinator } = r.memory;
  const lines = [
    '# bench simulate',
    '',
    `Command: \`${report.command}\``,
    '',
    `Machine: ${describeMachine(report.machine)}; load average ${report.loadAverage.start.map((x) => x.toFixed(2)).join(' / ')} (1/5/15 min) at the start, ` +
      `${report.loadAverage.end.map((x) => x.toFixed(2)).join(' / ')} at the end: other work shared the cores.`,
    '',
    `Data: ${report.data.files.join(', ')}: ${report.data.trainRows} training rows split among ${r.clients} virtual clients by ${report.data.partition} ` +
      `(rows per client: min ${r.clientRows.min}, median ${r.clientRows.median}, max ${r.clientRows.max}); the global model is scored after every round on ` +
      `${report.data.testRows} held-out rows (${report.data.testSource}) in the bench process's worker pool. Labels: ${report.data.labels.map((label) => JSON.stringify(label)).join(', ')}. ` +
      `Features: ${report.data.embedding.texts} texts, ${report.data.embedding.cached} from the feature cache, ${report.data.embedding.computed} embedded now (${fixed(report.data.embedding.seconds, 1)} s).`,
    '',
    `Federation: the real coordinator process sampling ${r.clientsPerRound} of ${r.clients} connected clients per round, ${r.roundsCompleted}/${r.roundsPlanned} rounds, ` +
      `verdict ${r.verdict}; ${r.clientsTrained} distinct clients trained at least once; ${r.workers} training worker${r.workers === 1 ? '' : 's'} (${r.backend} backend), each with one adapter+head model of ${r.modelParameters} parameters.`,
    '',
    '| round | seconds | clients sampled | accepted | MiB down | MiB up | test accuracy | test macro-F1 | train loss |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...r.rounds.map(
      (round) =>
        `| ${round.round}${round.status === 'failed' ? ' (failed)' : ''} | ${fixed(round.seconds, 2)} | ${round.sampled} | ${round.accepted} | ${fixed(round.bytesDown / MIB, 2)} | ${fixed(round.bytesUp / MIB, 2)} | ` +
        `${percent(round.test?.accuracy)} | ${fixed(round.test?.macroF1, 3)} | ${fixed(round.trainLoss, 3)} |`,
    ),
    '',
    '| stage | seconds |',
    '| --- | ---: |',
    `| read the data | ${fixed(report.preparationSeconds.read, 1)} |`,
    `| embed (or read the cache) | ${fixed(report.preparationSeconds.embed, 1)} |`,
    `| partition | ${fixed(report.preparationSeconds.partition, 1)} |`,
    `| start the coordinator process | ${fixed(r.seconds.coordinatorStart, 1)} |`,
    `| start the training workers | ${fixed(r.seconds.poolStart, 1)} |`,
    `| connect and join ${r.clients} clients | ${fixed(r.seconds.connect, 1)} |`,
    `| ${r.roundsCompleted} rounds (to the coordinator's exit) | ${fixed(r.seconds.rounds, 1)} |`,
    `| **total** | **${fixed(report.totalSeconds, 1)}** |`,
    '',
    '| process | stage | RSS (MiB) |',
    '| --- | --- | ---: |',
    ...simulation.stages.map((s) => `| simulation | ${s.stage} | ${mib(s.rssBytes)} |`),
    `| simulation | **peak (VmHWM)** | **${mib(simulation.peakRssBytes)}** |`,
    `| coordinator | listening, no client | ${mib(coordinator.idleRssBytes)} |`,
    `| coordinator | ${r.clients} clients joined | ${mib(coordinator.joinedRssBytes)} |`,
    `| coordinator | **peak (VmHWM)** | **${mib(coordinator.peakRssBytes)}** |`,
    '',
    `Target (issue 14): ${r.clients === 1000 && r.clientsPerRound === 10 && r.roundsPlanned === 20 ? '' : '(measured at other settings) '}within ${TARGET.wallSeconds / 60} minutes and under ` +
      `${TARGET.peakRssBytes / 2 ** 30} GiB per process: **${report.target.met ? 'met' : 'NOT met'}** (${fixed(report.totalSeconds / 60, 1)} min; peaks ${mib(simulation.peakRssBytes)} and ${mib(coordinator.peakRssBytes)} MiB).`,
    '',
    `- Time: ${report.dominant.time}`,
    `- Memory: ${report.dominant.memory}`,
    ...(r.clientErrors.length > 0 ? ['', `Client errors (${r.clientErrors.length}): ${r.clientErrors.slice(0, 10).join('; ')}`] : []),
  ];
  return lines.join('\n') + '\n';
}
