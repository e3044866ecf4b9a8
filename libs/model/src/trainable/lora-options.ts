// The command-line terms of LoRA inside the backbone, declared once for the coordinator (which sends them to every
// client in Welcome) and the benchmarks, and the LoraSpec they make.
import { LORA_TARGETS, type LoraSpec, type LoraTarget } from '@fedtl/protocol';
import { FedtlError, configError } from '@fedtl/util';
import { integerListOption, integerOption, numberOption, stringListOption } from '@fedtl/util/options';
import { USE_LITE_PROJECTION_SHAPES, checkLoraSpec } from './lora-spec';

/** The defaults: the paper's choice of query and value (Hu et al. 2022, §7.1) in use-lite's last layer. */
export const LORA_DEFAULTS = { layers: [USE_LITE_PROJECTION_SHAPES.length - 1], targets: ['query', 'value'] as LoraTarget[] } as const;

/** --lora-rank, --lora-alpha, --lora-layers, --lora-targets, in help group `group`. */
export function loraOptions(group: string) {
  return {
    loraRank: integerOption({ help: 'LoRA rank inside the use-lite encoder (fine-tunes the backbone with few parameters); 0: the backbone stays frozen', min: 0, default: 0, valueName: 'R', group }),
    loraAlpha: numberOption({ help: 'LoRA scaling numerator α: each adapted kernel runs as W + (α/R)·A·B', min: 0, minExclusive: true, defaultText: 'twice the rank', valueName: 'A', group }),
    loraLayers: integerListOption({
      help: `encoder layers with LoRA, 0-based (use-lite has ${USE_LITE_PROJECTION_SHAPES.length}); the layers below the first are computed once per text`,
      min: 0,
      max: USE_LITE_PROJECTION_SHAPES.length - 1,
      default: [...LORA_DEFAULTS.layers],
      valueName: 'L,…',
      group,
    }),
    loraTargets: stringListOption({
      help: 'projections with LoRA in each of those layers',
      acceptsItem: (item: string) => (LORA_TARGETS as readonly string[]).includes(item),
      expectedItem: `one of ${LORA_TARGETS.join(', ')}`,
      default: [...LORA_DEFAULTS.targets],
      valueName: 'P,…',
      group,
    }),
  };
}

/** The values `loraOptions` resolve to. */
export interface LoraOptionValues {
  loraRank: number;
  loraAlpha?: number;
  loraLayers: number[];
  loraTargets: string[];
}

/**
 * The run's LoraSpec from the resolved options: undefined for rank 0 (frozen backbone); layers sorted, targets in
 * LORA_TARGETS order, α twice the rank unless given.
 * @throws FedtlError FEDTL_ERR_BAD_CONFIG as checkLoraSpec (a layer or target named twice).
 */
export function loraSpecOf(values: LoraOptionValues): LoraSpec | undefined {
  if (values.loraRank === 0) return undefined;
  const lora: LoraSpec = {
    rank: values.loraRank,
    // The value every client will use: α travels as a float32.
    alpha: Math.fround(values.loraAlpha ?? 2 * values.loraRank),
    layers: [...values.loraLayers].sort((a, b) => a - b),
    targets: LORA_TARGETS.filter((target) => values.loraTargets.includes(target)),
  };
  try {
    if (lora.targets.length !== values.loraTargets.length || new Set(lora.layers).size !== lora.layers.length) {
      checkLoraSpec({ ...lora, layers: values.loraLayers, targets: values.loraTargets as LoraTarget[] });
    }
    checkLoraSpec(lora);
  } catch (err) {
    const field = err instanceof FedtlError ? (err.details?.field as string | undefined) : undefined;
    const flag = field === undefined ? undefined : LORA_FLAGS[field];
    if (!(err instanceof FedtlError) || flag === undefined) throw err;
    throw configError(flag, err.message.replace(/^model spec: lora\.\w+ must be /, '').replace(/, got .*$/, ''), flag === '--lora-alpha' ? (values.loraAlpha ?? lora.alpha) : flag === '--lora-rank' ? lora.rank : flag === '--lora-layers' ? values.loraLayers.join(',') : values.loraTargets.join(','));
  }
  return lora;
}

/** The flag behind each field checkLoraSpec names. */
const LORA_FLAGS: Record<string, string> = { 'lora.rank': '--lora-rank', 'lora.alpha': '--lora-alpha', 'lora.layers': '--lora-layers', 'lora.targets': '--lora-targets' };

/** The --lora-* flags that mean nothing with rank 0, given explicitly: the caller warns that they are ignored. */
export const LORA_DETAIL_KEYS = ['loraAlpha', 'loraLayers', 'loraTargets'] as const;
