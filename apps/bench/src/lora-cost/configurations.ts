// The four ways a client can train that `bench lora-cost` compares, as data: what each trains and what it caches.
import type { LoraSpec, ModelSpec } from '@fedtl/protocol';

export const LORA_COST_CONFIGURATIONS = ['frozen', 'lora-layer1', 'lora-layer1-recompute', 'lora-layers01'] as const;
export type LoraCostConfiguration = (typeof LORA_COST_CONFIGURATIONS)[number];

/** The configuration every LoRA configuration's texts/s is compared with: layer 0 recomputed at every step. */
export const BASELINE: LoraCostConfiguration = 'lora-layer1-recompute';

export interface ConfigurationPlan {
  configuration: LoraCostConfiguration;
  description: string;
  /** Encoder layers with LoRA (query and value); empty: the encoder is frozen. */
  loraLayers: number[];
  /**
   * What is computed once before training: 'features' (the frozen encoder's 512-d output, `.embed`) or the layer
   * the cached states enter (`.states(texts, fromLayer)`).
   */
  cached: 'features' | number;
}

const PLANS: Record<LoraCostConfiguration, Omit<ConfigurationPlan, 'configuration'>> = {
  frozen: { description: 'adapter + head on cached frozen features (no LoRA)', loraLayers: [], cached: 'features' },
  'lora-layer1': { description: 'LoRA q,v in layer 1; states entering layer 1 cached (layer 0 computed once)', loraLayers: [1], cached: 1 },
  'lora-layer1-recompute': { description: 'LoRA q,v in layer 1; states entering layer 0 cached (layer 0 recomputed every step)', loraLayers: [1], cached: 0 },
  'lora-layers01': { description: 'LoRA q,v in layers 0 and 1; states entering layer 0 cached', loraLayers: [0, 1], cached: 0 },
};

export function configurationPlan(configuration: LoraCostConfiguration): ConfigurationPlan {
  return { configuration, ...PLANS[configuration] };
}

/** The model every configuration trains: adapter width 64, linear head, `labels`, LoRA q,v of rank r (α = 2r) in the plan's layers. */
export function configurationSpec(plan: ConfigurationPlan, labels: string[], rank: number): ModelSpec {
  const lora: LoraSpec | undefined = plan.loraLayers.length === 0 ? undefined : { rank, alpha: 2 * rank, layers: plan.loraLayers, targets: ['query', 'value'] };
  return { inputDim: 512, adapterWidth: 64, head: 'linear', headHidden: 64, labels, ...(lora ? { lora } : {}) };
}
