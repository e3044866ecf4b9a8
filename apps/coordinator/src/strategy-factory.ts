// Builds the configured aggregation strategy. Its server options, with the strategy's defaults filled in, are
// also what the run's config hash records: a checkpoint resumes only under the same server arithmetic (and the
// same robust rule: trim fraction, f, m) and the same FedProx μ or Per-FedAvg α in the plans.
import {
  FEDADAGRAD_DEFAULTS,
  FEDADAM_DEFAULTS,
  FEDAVGM_DEFAULTS,
  FEDPROX_DEFAULTS,
  FEDYOGI_DEFAULTS,
  FedAdagrad,
  FedAdam,
  FedAvg,
  FedAvgM,
  FedProx,
  PER_FEDAVG_DEFAULTS,
  PerFedAvg,
  FedYogi,
  KRUM_DEFAULTS,
  Krum,
  Median,
  MultiKrum,
  TRIMMED_MEAN_DEFAULTS,
  TrimmedMean,
  type Strategy,
} from '@fedtl/strategies';
import type { CoordinatorConfig, StrategyName } from './config';

export interface ServerOptimizerChoice {
  strategy: StrategyName;
  serverLearningRate: number;
  serverMomentum?: number;
  beta1?: number;
  beta2?: number;
  tau?: number;
  /** FedProx's μ, sent to the clients: it changes what they train, so it is in the config hash too. */
  proximalMu?: number;
  /** Per-FedAvg's α, sent to the clients: in the config hash for the same reason. */
  metaInnerLearningRate?: number;
  trimFraction?: number;
  byzantineClients?: number;
  /** MultiKrum's m; absent: n − f of each round. */
  selected?: number;
}

/** The strategy and every option that changes its server update, defaults resolved. */
export function serverOptimizerOf(config: CoordinatorConfig): ServerOptimizerChoice {
  switch (config.strategy) {
    case 'fedavg':
      return { strategy: 'fedavg', serverLearningRate: config.serverLearningRate ?? 1 };
    case 'fedavgm':
      return {
        strategy: 'fedavgm',
        serverLearningRate: config.serverLearningRate ?? FEDAVGM_DEFAULTS.serverLearningRate,
        serverMomentum: config.serverMomentum ?? FEDAVGM_DEFAULTS.serverMomentum,
      };
    case 'fedadam':
      return {
        strategy: 'fedadam',
        serverLearningRate: config.serverLearningRate ?? FEDADAM_DEFAULTS.serverLearningRate,
        beta1: config.serverBeta1 ?? FEDADAM_DEFAULTS.beta1,
        beta2: config.serverBeta2 ?? FEDADAM_DEFAULTS.beta2,
        tau: config.serverTau ?? FEDADAM_DEFAULTS.tau,
      };
    case 'fedyogi':
      return {
        strategy: 'fedyogi',
        serverLearningRate: config.serverLearningRate ?? FEDYOGI_DEFAULTS.serverLearningRate,
        beta1: config.serverBeta1 ?? FEDYOGI_DEFAULTS.beta1,
        beta2: config.serverBeta2 ?? FEDYOGI_DEFAULTS.beta2,
        tau: config.serverTau ?? FEDYOGI_DEFAULTS.tau,
      };
    case 'fedadagrad':
      return {
        strategy: 'fedadagrad',
        serverLearningRate: config.serverLearningRate ?? FEDADAGRAD_DEFAULTS.serverLearningRate,
        beta1: config.serverBeta1 ?? FEDADAGRAD_DEFAULTS.beta1,
        tau: config.serverTau ?? FEDADAGRAD_DEFAULTS.tau,
      };
    case 'fedprox':
      return { strategy: 'fedprox', serverLearningRate: config.serverLearningRate ?? 1, proximalMu: config.proximalMu ?? FEDPROX_DEFAULTS.proximalMu };
    case 'per-fedavg':
      return {
        strategy: 'per-fedavg',
        serverLearningRate: config.serverLearningRate ?? 1,
        metaInnerLearningRate: config.metaInnerLearningRate ?? PER_FEDAVG_DEFAULTS.metaInnerLearningRate,
      };
    case 'median':
      return { strategy: 'median', serverLearningRate: config.serverLearningRate ?? 1 };
    case 'trimmed-mean':
      return { strategy: 'trimmed-mean', serverLearningRate: config.serverLearningRate ?? 1, trimFraction: config.trimFraction ?? TRIMMED_MEAN_DEFAULTS.trimFraction };
    case 'krum':
      return { strategy: 'krum', serverLearningRate: config.serverLearningRate ?? 1, byzantineClients: config.byzantineClients ?? KRUM_DEFAULTS.byzantineClients };
    case 'multikrum':
      return {
        strategy: 'multikrum',
        serverLearningRate: config.serverLearningRate ?? 1,
        byzantineClients: config.byzantineClients ?? KRUM_DEFAULTS.byzantineClients,
        ...(config.multikrumSelected !== undefined ? { selected: config.multikrumSelected } : {}),
      };
  }
}

export function createStrategy(config: CoordinatorConfig): Strategy {
  const sampling = { fractionFit: config.fractionFit, minFitClients: config.minClients, minAvailableClients: config.minAvailable };
  const { strategy, ...server } = serverOptimizerOf(config);
  switch (strategy) {
    case 'fedavg':
      return new FedAvg({ ...sampling, ...server });
    case 'fedavgm':
      return new FedAvgM({ ...sampling, ...server });
    case 'fedadam':
      return new FedAdam({ ...sampling, ...server });
    case 'fedyogi':
      return new FedYogi({ ...sampling, ...server });
    case 'fedadagrad':
      return new FedAdagrad({ ...sampling, ...server });
    case 'fedprox':
      return new FedProx({ ...sampling, ...server });
    case 'per-fedavg':
      return new PerFedAvg({ ...sampling, ...server });
    case 'median':
      return new Median({ ...sampling, ...server });
    case 'trimmed-mean':
      return new TrimmedMean({ ...sampling, ...server });
    case 'krum':
      return new Krum({ ...sampling, ...server });
    case 'multikrum':
      return new MultiKrum({ ...sampling, ...server });
  }
}
