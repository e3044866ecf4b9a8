// Does the coordinator's memory grow with the model, or with N x the model? Both comparisons are measured in
// one run: more clients at a fixed model, and a larger model at the largest N.
import type { ScenarioResult } from './load-scenario';

export interface ClientScaling {
  adapterWidth: number;
  modelBytes: number;
  fromClients: number;
  toClients: number;
  clientRatio: number;
  peakRssRatio: number;
  /** Extra peak RSS per extra client; N x model growth would make this at least one model's bytes. */
  peakRssBytesPerClient: number;
}

export interface ModelScaling {
  clients: number;
  modelRatio: number;
  peakRssRatio: number;
  /** Extra peak RSS of the larger model at `clients`. */
  peakRssGrowthBytes: number;
  /** What keeping one copy of the model per client would add: clients x (larger - smaller model bytes). */
  perClientCopiesBytes: number;
}

export interface MemoryScaling {
  byClients: ClientScaling[];
  byModel?: ModelScaling;
  /** True when every extra client cost less than one copy of its model, at every model size; null with one N. */
  growsWithModelNotClients: boolean | null;
}

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
          perClientCopiesBytes: maxClients * (large.modelBytes - small.modelBytes),
        };
  return {
    byClients,
    byModel,
    growsWithModelNotClients: byClients.length === 0 ? null : byClients.every((s) => s.peakRssBytesPerClient < s.modelBytes),
  };
}
