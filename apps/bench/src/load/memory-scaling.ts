// Does the coordinator's memory grow with the model, or with N x the model? Measured in one run: more clients at
// two model sizes. The extra memory per extra client is a fixed connection cost plus whatever the coordinator
// holds per client in proportion to the model; comparing it across the two models separates the two.
import type { ScenarioResult } from './load-scenario';

export interface ClientScaling {
  adapterWidth: number;
  modelBytes: number;
  fromClients: number;
  toClients: number;
  clientRatio: number;
  peakRssRatio: number;
  /** Extra peak RSS per extra client. */
  peakRssBytesPerClient: number;
}

export interface ModelScaling {
  clients: number;
  modelRatio: number;
  peakRssRatio: number;
  /** Extra peak RSS of the larger model at `clients`. */
  peakRssGrowthBytes: number;
  /** What one copy of the model per client would add: clients x (larger - smaller model bytes). */
  copyPerClientBytes: number;
}

export interface MemoryScaling {
  byClients: ClientScaling[];
  byModel?: ModelScaling;
  /**
   * Model copies the coordinator's peak holds per client: the growth of the per-client cost between the two
   * models over their size difference. About 0 when memory is O(model); 1 or more when it is O(N x model).
   * Null when the run had only one N or one model.
   */
  modelCopiesPerClient: number | null;
  /** Less than half a model copy per client; null when not measured. */
  growsWithModelNotClients: boolean | null;
}

/** Below this many model copies per client, memory is taken to grow with the model and not with N x model. */
const COPIES_PER_CLIENT_LIMIT = 0.5;

export function analyseMemoryScaling(results: ScenarioResult[]): MemoryScaling {
  const widths = [...new Set(results.map((r) => r.adapterWidth))].sort((a, b) => a - b);
  const byClients: ClientScaling[] = [];
  for (const adapterWidth of widths) {
    const runs = results.filter((r) => r.adapterWidth === adapterWidth).sort((a, b) => a.clients - b.clients);
    const [low, high] = [runs[0], runs[runs.length - 1]];
    if (low === high) continue;
    byClients.push({
      adapterWidth,
      modelBytes: high.modelBytes,
      fromClients: low.clients,
      toClients: high.clients,
      clientRatio: high.clients / low.clients,
      peakRssRatio: high.peakRssBytes / low.peakRssBytes,
      peakRssBytesPerClient: (high.peakRssBytes - low.peakRssBytes) / (high.clients - low.clients),
    });
  }
  const maxClients = Math.max(...results.map((r) => r.clients));
  const atMax = results.filter((r) => r.clients === maxClients).sort((a, b) => a.modelBytes - b.modelBytes);
  const [small, large] = [atMax[0], atMax[atMax.length - 1]];
  const byModel: ModelScaling | undefined =
    small === large
      ? undefined
      : {
          clients: maxClients,
          modelRatio: large.modelBytes / small.modelBytes,
          peakRssRatio: large.peakRssBytes / small.peakRssBytes,
          peakRssGrowthBytes: large.peakRssBytes - small.peakRssBytes,
          copyPerClientBytes: maxClients * (large.modelBytes - small.modelBytes),
        };
  const [smallest, largest] = [byClients[0], byClients[byClients.length - 1]];
  const modelCopiesPerClient =
    byClients.length < 2 ? null : (largest.peakRssBytesPerClient - smallest.peakRssBytesPerClient) / (largest.modelBytes - smallest.modelBytes);
  return {
    byClients,
    byModel,
    modelCopiesPerClient,
    growsWithModelNotClients: modelCopiesPerClient === null ? null : modelCopiesPerClient < COPIES_PER_CLIENT_LIMIT,
  };
}
