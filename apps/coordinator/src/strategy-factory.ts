// Builds the configured aggregation strategy. Its server options, with the strategy's defaults filled in, are
// also what the run's config hash records: a checkpoint resumes only under the same server arithmetic.
import { FEDADAM_DEFAULTS, FEDAVGM_DEFAULTS, FedAdam, FedAvg, FedAvgM, type Strategy } from '@fedtl/strategies';
import type { CoordinatorConfig, StrategyName } from './config';

export interface ServerOptimizerChoice {
  strategy: StrategyName;
  serverLearningRate: number;
  serverMomentum?: number;
  beta1?: number;
  beta2?: number;
  tau?: number;
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
  }
}
