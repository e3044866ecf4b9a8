// report.json's shape and report.md's table for `bench leakage`.
import type { TrainingConfig } from '@fedtl/protocol';
import { describeMachine, type MachineInfo } from '../machine';
import type { DpTerms } from './audit-settings';
import type { SettingGroup } from './leakage-config';

export interface Stat {
  mean: number;
  sd: number;
}

export interface AttackSummary {
  attack: string;
  title: string;
  /** Trials the attack ran on (gradient matching runs on the first few only). */
  trials: number;
  /** Mean ± sd over trials of the per-trial mean best-match cosine; null when nothing was received. */
  cosine: Stat | null;
  /** Mean ± sd over trials of the top-1 rate. */
  top1: Stat;
  /** Mean over trials of the chance top-1 rate for as many blind picks. */
  chance: number;
  /** Mean number of recovered vectors per trial. */
  guesses: number;
  /** How the attack went on the first trial (layer used, dummies, final matching loss…). */
  detail: Record<string, number | string>;
  /** Per trial: [cosine or null, top-1]. */
  perTrial: Array<[number | null, number]>;
  /** Set when the attack could not read the update (the error it threw): the table says n/a with it. */
  notApplicable?: string;
}

export interface SettingSummary {
  dataset: string;
  setting: string;
  title: string;
  receives: string;
  plan: Omit<TrainingConfig, 'seed'>;
  examples: number;
  otherClients: number;
  /** The DP rows' terms: the round's ε at δ, clip norm, noise multiplier, sampling rate and steps. */
  dp?: DpTerms;
  /** Set when the client refused the plan: the policy's reason. */
  refused?: string;
  poolSize: number;
  attacks: AttackSummary[];
  /** Wall time of the row (every trial: training, protection and attacks). */
  seconds: number;
}

export interface LeakageReport {
  suite: 'leakage';
  /** The row group: issue 8's rows (report.*) or those with differential privacy on (dp-report.*). */
  group: SettingGroup;
  command: string;
  seed: number;
  trials: number;
  quick: boolean;
  backbone: { id: string; hash: string; dim: number };
  backend: string;
  model: { adapterWidth: number; head: string };
  datasets: Array<{ name: string; title: string; defaultPlanSource: string; organisations: number; others: number }>;
  settings: SettingSummary[];
  /** Blind-guess reference: mean cosine of the distractors' mean vector to a true vector, per dataset. */
  blindCosine: Record<string, number>;
  notes: string[];
  machine: MachineInfo;
  embedding: { texts: number; cached: number; computed: number; seconds: number };
  seconds: number;
}

const fixed = (stat: Stat | null, digits: number) => (stat === null ? '—' : `${stat.mean.toFixed(digits)} ± ${stat.sd.toFixed(digits)}`);
const percent = (value: number) => `${(100 * value).toFixed(value < 0.01 ? 2 : 1)}%`;

/** The markdown table of one dataset's rows: setting | what the coordinator receives | attack | cosine | top-1 | chance. */
export function leakageTable(report: LeakageReport, dataset: string): string {
  const lines = ['| setting | what the coordinator receives | attack | cosine | top-1 | chance |', '|---|---|---|---|---|---|'];
  for (const setting of report.settings.filter((s) => s.dataset === dataset)) {
    const receives = setting.refused ?? setting.receives;
    setting.attacks.forEach((a, i) => {
      if (a.notApplicable !== undefined && a.trials === 0) {
        lines.push(`| ${i === 0 ? setting.title : ''} | ${i === 0 ? receives : ''} | ${a.attack} | n/a: ${a.notApplicable} | — | — |`);
        return;
      }
      const top1 = a.trials === 0 ? 'not run' : `${percent(a.top1.mean)} ± ${percent(a.top1.sd)}`;
      lines.push(`| ${i === 0 ? setting.title : ''} | ${i === 0 ? receives : ''} | ${a.attack} (n=${a.trials}) | ${fixed(a.cosine, 3)} | ${top1} | ${a.trials === 0 ? '—' : percent(a.chance)} |`);
    });
  }
  return lines.join('\n') + '\n';
}

/** report.md: one table per dataset, then how to read it. */
export function leakageMarkdown(report: LeakageReport): string {
  const parts = [report.group === 'dp' ? `# Leakage audit with differential privacy on: what the coordinator can recover from one client\n` : `# Leakage audit: what the coordinator can recover from one client\n`];
  parts.push(`\`${report.command}\` — seed ${report.seed}, ${report.trials} trials per setting${report.quick ? ' (--quick)' : ''}, backbone ${report.backbone.id} (${report.backbone.dim}-d), adapter ${report.model.adapterWidth} + ${report.model.head} head, backend ${report.backend}.\n`);
  for (const dataset of report.datasets) {
    parts.push(`## ${dataset.title}\n`);
    parts.push(`Default plan: ${dataset.defaultPlanSource}. Pool: the client's own texts + ${dataset.others} others of the same dataset. A blind guess (the others' mean vector) has cosine ${report.blindCosine[dataset.name]?.toFixed(3) ?? '—'} to a true vector.\n`);
    parts.push(leakageTable(report, dataset.name));
  }
  parts.push('## How to read it\n');
  for (const note of report.notes) parts.push(`- ${note}`);
  parts.push('');
  parts.push(`Machine: ${describeMachine(report.machine)}. Embedding: ${report.embedding.texts} texts (${report.embedding.cached} cached, ${report.embedding.computed} computed, ${report.embedding.seconds.toFixed(1)} s). Wall time ${report.seconds.toFixed(1)} s.\n`);
  return parts.join('\n');
}
