// The cross-domain report: what report.json holds (the shape issue 4 asks for, plus the context a reader needs
// to reproduce a number), and the negative-transfer list derived from it.
import type { MachineInfo } from '../machine';
import type { MethodName, ModelOptions, ServerOptimizerOptions, TrainingOptions } from './domains-config';
import type { EmbeddingSummary } from './feature-store';
import type { SecAggComparison } from './secagg-comparison';
import type { CompressionComparison } from './compression-comparison';

export interface CurvePoint {
  round: number;
  /** Mean over domains of the per-domain accuracy after this round. */
  mean: number;
}

export interface MethodResult {
  /** Unweighted mean of perDomain. */
  mean: number;
  perDomain: Record<string, number>;
  /** Federated methods: one point per round. Trained-alone references: one point, at the last round. */
  curve: CurvePoint[];
  /** Protocol payload bytes per round, clients to coordinator (0 for methods without a federation). */
  bytesUp: number;
  /** Protocol payload bytes per round, coordinator to clients. */
  bytesDown: number;
  /** Wall seconds of the method's training and evaluation (a federation: from start to all processes exited). */
  seconds: number;
  /** personalized: the fedavg run it was measured in; its seconds and bytes are that run's. */
  sharedRunWith?: MethodName;
}

export interface NegativeTransfer {
  domain: string;
  method: MethodName;
  /** method accuracy − local accuracy on that domain (negative). */
  delta: number;
}

/** What a report on the domains data states next to its figures, so a reader can reproduce them. */
export interface DomainsRunContext {
  backbone: { id: string; hash: string };
  domains: string[];
  labelsPerClient: number;
  rounds: number;
  /** 'validation' under --validate: scored on a slice held out from each training file. */
  evaluatedOn: 'test' | 'validation';
  trainExamples: Record<string, number>;
  evaluationExamples: Record<string, number>;
  backend: string;
  machine: MachineInfo;
  embedding: EmbeddingSummary;
  /** Wall seconds: of this budget (embedding included for the first budget of a run), or of the whole command. */
  seconds: number;
  command: string;
}

export interface DomainsReport extends DomainsRunContext {
  suite: 'domains';
  seed: number;
  hyperparameters: ModelOptions & TrainingOptions & { personalizeEpochs: number; serverOptimizers: ServerOptimizerOptions };
  methods: Partial<Record<MethodName, MethodResult>>;
  negativeTransfer: NegativeTransfer[];
  /** fedavg-secagg against fedavg, when both ran: accuracy difference per domain and round, cost per round. */
  secureAggregation?: SecAggComparison;
  /** --compression: the fedavg federation per update compression, against float32 (bytes up, mean, difference). */
  compression?: CompressionComparison;
}

/** Methods that learn from other organisations' data, which can therefore hurt a domain (vs local). */
export const TRANSFER_METHODS: readonly MethodName[] = ['fedavg', 'fedavg-secagg', 'fedavgm', 'fedadam', 'personalized', 'leave-one-out'];

export function meanOf(values: readonly number[]): number {
  return values.length === 0 ? NaN : values.reduce((sum, v) => sum + v, 0) / values.length;
}

/** Every (domain, transfer method) where the method scores below `local`, worst first. */
export function negativeTransfer(methods: DomainsReport['methods']): NegativeTransfer[] {
  const local = methods.local;
  if (!local) return [];
  const found: NegativeTransfer[] = [];
  for (const method of TRANSFER_METHODS) {
    const result = methods[method];
    if (!result) continue;
    for (const [domain, accuracy] of Object.entries(result.perDomain)) {
      const baseline = local.perDomain[domain];
      if (baseline !== undefined && accuracy < baseline) found.push({ domain, method, delta: accuracy - baseline });
    }
  }
  return found.sort((a, b) => a.delta - b.delta || a.domain.localeCompare(b.domain));
}
