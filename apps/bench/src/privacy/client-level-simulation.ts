// Client-level DP-FedAvg (McMahan, Ramage, Talwar, Zhang, ICLR 2018) over many clients, simulated in this process:
// a hundred client processes do not fit on a two-core machine, and the socket path of DP-FedAvg is covered by the
// coordinator's and client's e2e tests. What runs here is the code those processes run: each sampled client trains
// with @fedtl/model's trainLocally (the client's training), and the round is aggregated by @fedtl/strategies'
// DpFedAvgAggregator around the strategy's own RoundAggregator, exactly as the coordinator does in the clear. The
// privacy spent is kept in @fedtl/privacy's PrivacyLedger, one client-level event per round.
//
// Each round every client joins independently with probability q (Poisson sampling, the accountant's assumption),
// drawn from a seeded generator so that a row repeats; the coordinator draws it from node:crypto. The noise is the
// aggregator's own (node:crypto). ε = ∞ is the strategy alone: example-weighted, unclipped, no noise.
import { trainLocally, type LabelledFeatures } from '@fedtl/model';
import { PrivacyLedger, l2NormOf } from '@fedtl/privacy';
import type { ModelSpec, NamedTensor } from '@fedtl/protocol';
import { DpFedAvgAggregator, type RoundAggregator, type Strategy } from '@fedtl/strategies';
import { deriveSeed, seededRandom } from '@fedtl/util';
import type { TrainingOptions } from '../domains/domains-config';

export interface SimulatedClient {
  id: string;
  train: LabelledFeatures;
}

export interface ClientLevelRun {
  spec: ModelSpec;
  /** The run's starting weights (the coordinator's initialWeights for the seed). */
  initial: readonly NamedTensor[];
  strategy: Strategy;
  clients: readonly SimulatedClient[];
  training: TrainingOptions;
  rounds: number;
  samplingRate: number;
  seed: number;
  /** Absent: no DP. */
  dp?: { clipNorm: number; noiseMultiplier: number; delta: number };
}

export interface ClientLevelResult {
  weights: NamedTensor[];
  /** ε the ledger reports at δ after the last round; null without DP. */
  spentEpsilon: number | null;
  /** L2 norms of every update sent, before any clipping. */
  updateNorms: number[];
  /** Clients that trained, summed over rounds. */
  clientRounds: number;
  seconds: number;
}

export async function simulateClientLevel(run: ClientLevelRun): Promise<ClientLevelResult> {
  const started = performance.now();
  const sampling = seededRandom(deriveSeed(run.seed, 'client-sampling'));
  const ledger = new PrivacyLedger();
  const updateNorms: number[] = [];
  let clientRounds = 0;
  let global = run.strategy.initialize(run.initial);
  for (let round = 1; round <= run.rounds; round++) {
    const selected = run.clients.filter(() => sampling() < run.samplingRate);
    const inner = run.strategy.beginRound(round, global);
    const aggregator: RoundAggregator = run.dp
      ? new DpFedAvgAggregator(inner, { clipNorm: run.dp.clipNorm, noiseStddev: run.dp.noiseMultiplier * run.dp.clipNorm, expectedClients: run.samplingRate * run.clients.length })
      : inner;
    for (const client of selected) {
      const trained = await trainLocally(run.spec, global, client.train, { ...run.training, seed: deriveSeed(run.seed, round, client.id) });
      updateNorms.push(l2NormOf(trained.delta.map((t) => t.data as Float32Array)));
      aggregator.add({ clientId: client.id, delta: trained.delta, numExamples: trained.numExamples, metrics: trained.metrics });
    }
    clientRounds += selected.length;
    const result = aggregator.finish([]);
    if (result) global = result.weights;
    // Every round is charged, even one that sampled nobody: the calibration counted `rounds` steps.
    if (run.dp) ledger.record({ round, unit: 'client', mechanism: 'poisson-sampled-gaussian', samplingRate: run.samplingRate, noiseMultiplier: run.dp.noiseMultiplier, steps: 1 });
  }
  const spent = run.dp ? ledger.spent(run.dp.delta).find((s) => s.unit === 'client')?.epsilon ?? null : null;
  return { weights: global, spentEpsilon: spent, updateNorms, clientRounds, seconds: (performance.now() - started) / 1000 };
}
